/**
 * The job layer: GPU inventory, capacity, job specs, runtimes, and the job protocol that runs a job
 * over an attested FramedChannel.
 *
 * Supplier, once per session (after attestation and negotiation):
 *
 * ```ts
 * const inventory = await loadInventory({ config })            // nvidia-smi, else config, else NO_GPUS
 * const ledger = new CapacityLedger(inventory.devices, { clock })
 * ledger.hold(agreementId, 'h100-80gb', 2, 60_000)              // during negotiation
 * const result = await runJobServer(channel, {
 *   runtime: processRuntime(),                                  // or containerRuntime()
 *   workRoot, lease: { ledger, agreementId }, clock, signal,
 *   onUsageTick: (tick, ctl) => { ...ctl.sendMetering(report); if (overBudget) ctl.stop('budget') },
 *   onMetering: (voucher, ctl) => { ... }
 * })                                                            // the lease is released when it returns
 * ```
 *
 * Renter:
 *
 * ```ts
 * const result = await runJobClient(channel, spec, { outputDir, onStdout, onStderr, onTick, onMetering, signal })
 * // result: { exitCode, signal?, reason, detail?, outputs: [{ name, sha256, bytes, path }], missingOutputs, durationMs }
 * ```
 *
 * Wire format: src/protocols/schema/job.proto (one JobFrame per frame, exactly one field set; the
 * `metering` field carries the metering layer's own messages on the same channel).
 */
export { CapacityLedger } from './capacity.js'
export type { CapacityHold, LedgerGpu } from './capacity.js'
export { loadInventory } from './inventory/inventory.js'
export type { GpuClass, GpuConfigEntry, GpuDevice, Inventory, InventoryConfig, LoadInventoryOptions } from './inventory/inventory.js'
export { NVIDIA_SMI_ARGS, parseNvidiaSmi, systemNvidiaSmi } from './inventory/nvidia-smi.js'
export type { NvidiaSmiResult, NvidiaSmiRunner, SmiGpu } from './inventory/nvidia-smi.js'
export { gpuFamily, marketedSizeGb, normaliseGpuModel } from './inventory/normalise.js'
export { isSafeRelativePath, validateJobId, validateJobSpec } from './spec.js'
export { processRuntime } from './runtime/process.js'
export type { ProcessRuntimeInit, ResourceLimits } from './runtime/process.js'
export { buildContainerArgv, containerRuntime, detectContainerEngine } from './runtime/container.js'
export type { ContainerEngine, ContainerOptions, ContainerRuntimeInit } from './runtime/container.js'
export type { CommandProbe } from './runtime/detect.js'
export type { Runtime, RuntimeJob, RunningJob, ProcessExit } from './runtime/types.js'
export { JobStore, JOB_STORE_PREFIX, stateForResult } from './store.js'
export type { JobRecord, JobRole, JobState } from './store.js'
export { CapacityError, InventoryError, JobSpecError, JobStoreError, RuntimeError } from './errors.js'
export type { CapacityErrorCode, InventoryErrorCode, JobSpecErrorCode, JobStoreErrorCode, RuntimeErrorCode } from './errors.js'
export type { JobEndReason, JobInput, JobOutput, JobResult, JobSpec, UsageTick } from './types.js'
export { runJobClient, runJobServer, JobProtocolError } from '../protocols/job/index.js'
export type { JobClientOptions, JobControl, JobProtocolErrorCode, JobServerOptions, JobServerResult } from '../protocols/job/index.js'
