import { BazaarError } from '../util/errors.js'

/** Why no GPU inventory could be built. */
export type InventoryErrorCode =
  /** nvidia-smi is absent or found no GPU, and the config lists none */
  | 'NO_GPUS'
  /** nvidia-smi ran but exited non-zero, timed out or printed too much */
  | 'NVIDIA_SMI_FAILED'
  /** nvidia-smi printed something that is not the requested CSV */
  | 'NVIDIA_SMI_INVALID_OUTPUT'
  /** the inventory config is malformed (names the field) */
  | 'INVALID_CONFIG'

export class InventoryError extends BazaarError<InventoryErrorCode> {}

export type CapacityErrorCode =
  /** fewer free GPUs of that model than asked for */
  | 'INSUFFICIENT_CAPACITY'
  /** the agreement already holds capacity */
  | 'ALREADY_HELD'
  /** commit of an agreement with no live hold (never held, expired or released) */
  | 'NOT_HELD'
  | 'INVALID_REQUEST'

export class CapacityError extends BazaarError<CapacityErrorCode> {}

/** A job spec that breaks a rule; one code per rule, see validateJobSpec. */
export type JobSpecErrorCode =
  | 'JOB_ID_INVALID'
  | 'COMMAND_INVALID'
  | 'TOO_MANY_ARGS'
  | 'ARG_INVALID'
  | 'ARGS_TOO_LARGE'
  | 'TOO_MANY_ENV'
  | 'ENV_NAME_INVALID'
  | 'ENV_RESERVED'
  | 'ENV_DUPLICATE'
  | 'ENV_VALUE_INVALID'
  | 'ENV_TOO_LARGE'
  | 'TOO_MANY_INPUTS'
  | 'INPUT_PATH_INVALID'
  | 'INPUT_DUPLICATE'
  | 'INPUT_HASH_INVALID'
  | 'INPUTS_TOO_LARGE'
  | 'TOO_MANY_OUTPUTS'
  | 'OUTPUT_PATH_INVALID'
  | 'OUTPUT_DUPLICATE'
  | 'GPU_COUNT_INVALID'
  | 'DURATION_INVALID'
  | 'BUDGET_INVALID'
  | 'IMAGE_INVALID'

export class JobSpecError extends BazaarError<JobSpecErrorCode> {}

export type RuntimeErrorCode =
  /** the runtime asked for is not available here (no container engine, ...) */
  | 'RUNTIME_UNAVAILABLE'
  /** the process could not be started */
  | 'SPAWN_FAILED'
  /** the job directory already exists or cannot be created */
  | 'WORKDIR_FAILED'
  /** the job names an image, and this supplier runs jobs as processes */
  | 'IMAGE_NOT_SUPPORTED'
  /** this supplier runs jobs in containers, and the job names no image */
  | 'IMAGE_REQUIRED'
  /** the job's image is not one the supplier's `jobs.images` allows */
  | 'IMAGE_NOT_ALLOWED'

export class RuntimeError extends BazaarError<RuntimeErrorCode> {}

export type JobStoreErrorCode = 'INVALID_RECORD' | 'NOT_FOUND' | 'INVALID_TRANSITION'

export class JobStoreError extends BazaarError<JobStoreErrorCode> {}
