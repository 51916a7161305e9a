/**
 * Node configuration: packaged defaults (config/default.json) < config file < environment < flags,
 * validated once with errors that name the bad field.
 */
export { loadConfig, defaultConfig, readConfigTemplate, readConfigFile, CONFIG_TEMPLATES, PACKAGE_CONFIG_DIR, type LoadConfigOptions } from './load.js'
export { validateConfig, isLoopback, CONFIG_LIMITS } from './validate.js'
export { envLayer, mergeLayers, CONFIG_ENV_VARS } from './layers.js'
export { CONFIG_FLAG_OPTIONS, CONFIG_FLAGS_USAGE, configFlagsFromArgs } from './flags.js'
export { attestationPolicyFromConfig } from './policy.js'
export { enclaveListenAddrs } from './enclave-listen.js'
export { CONFIG_FIELDS, configKeys, type ConfigField } from './schema.js'
export { ConfigError, ConfigErrorCode, type ConfigSource } from './errors.js'
export * from './types.js'
