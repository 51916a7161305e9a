import { UserError } from '../../util/errors.js'

export enum ConfigErrorCode {
  /** a field has a bad type or value; `field` names it */
  INVALID_FIELD = 'INVALID_FIELD',
  /** a field this version does not know (often a typo); `field` names it */
  UNKNOWN_FIELD = 'UNKNOWN_FIELD',
  /** a config file is not valid JSON, not an object, or too large */
  INVALID_FILE = 'INVALID_FILE',
  /** a config file given explicitly (or the packaged defaults) cannot be read */
  UNREADABLE = 'UNREADABLE'
}

/** Where a bad value came from. */
export type ConfigSource = 'defaults' | 'file' | 'env' | 'flags'

/**
 * A configuration the node refuses to start with. A UserError: the CLI prints one line naming the
 * field (`listen[1]`, `market.pricePerGpuHour`) and where it came from.
 */
export class ConfigError extends UserError {
  declare readonly code: ConfigErrorCode
  /** path of the bad field, e.g. `listen[1]` or `market.pricePerGpuHour`; empty for whole-file errors */
  readonly field: string
  /** the layer that set the bad value, when known */
  readonly source?: ConfigSource
  constructor (code: ConfigErrorCode, field: string, message: string, options: { source?: ConfigSource, cause?: unknown } = {}) {
    // a bad flag value is a usage error (exit 2); a bad file or environment value exits 1
    super(message, { code, exitCode: options.source === 'flags' ? 2 : 1, cause: options.cause })
    this.field = field
    this.source = options.source
  }
}
