export { decide, type ArbiterRequest, type ArbiterView, type ArbiterDecision, type ArbiterRefusal } from './rules.js'
export { Arbiter, type ArbiterClient, type ArbiterComponents, type ArbiterResponse } from './service.js'
export { arbiterRequestBytes, checkRequestSignature, requesterOf, signArbiterRequest } from './request-signature.js'
