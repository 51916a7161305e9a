import { BazaarError } from '../../util/errors.js'

export type JobProtocolErrorCode =
  /** a frame over MAX_JOB_FRAME_BYTES */
  | 'FRAME_TOO_LARGE'
  /** not a JobFrame, or a field over its bound */
  | 'FRAME_MALFORMED'
  /** a JobFrame with no field, or with more than one */
  | 'FRAME_INVALID'
  /** a valid frame at the wrong point of the exchange */
  | 'UNEXPECTED_FRAME'
  | 'VERSION_UNSUPPORTED'
  /** the first frame or the inputs did not arrive in time */
  | 'START_TIMEOUT'
  /** a file chunk at the wrong offset, for the wrong file, or past the declared size */
  | 'CHUNK_INVALID'
  | 'INPUT_HASH_MISMATCH'
  /** an output the renter did not ask for, twice, or over the renter's bounds */
  | 'OUTPUT_INVALID'
  | 'OUTPUT_SIZE_MISMATCH'
  | 'OUTPUT_HASH_MISMATCH'
  /** the job needs more GPUs than the agreement assigned */
  | 'GPU_COUNT_EXCEEDS'
  /** the job's image (or none) is not the one its agreement names */
  | 'IMAGE_NOT_AGREED'
  /** the lease's capacity is not held (lapsed or released) */
  | 'NO_CAPACITY'
  /** the job directory could not be prepared */
  | 'WORKDIR_FAILED'
  /** the other side closed or aborted the channel before the job ended */
  | 'CHANNEL_CLOSED'
  /** the peer sent past its flow-control window, or credited bytes never sent */
  | 'FLOW_VIOLATION'
  /** the peer gave no credit, or did not take a frame, for too long (it stopped reading) */
  | 'FLOW_STALLED'
  /** the supplier sent nothing for too long while the job was followed (see DEFAULT_SUPPLIER_SILENCE_MS) */
  | 'SUPPLIER_SILENT'
  /** the exit and outputs were not taken, or not sent, within their window (`outputDeliveryMs`) */
  | 'DELIVERY_TIMEOUT'
  /** the supplier did not confirm a cancel in time */
  | 'CANCEL_TIMEOUT'
  /** the supplier refused the job; `remoteCode` says why */
  | 'REMOTE_REJECTED'
  /** re-attach refused: the attested session's renter is not the agreement's renter */
  | 'ATTACH_NOT_RENTER'
  /** re-attach refused: no job of this agreement ran here (or the session is for another agreement) */
  | 'ATTACH_UNKNOWN_JOB'
  /** re-attach refused: the job ended and its result was not kept */
  | 'ATTACH_JOB_ENDED'

export class JobProtocolError extends BazaarError<JobProtocolErrorCode> {
  /** the code the supplier sent in its error frame (REMOTE_REJECTED only) */
  readonly remoteCode?: string
  constructor (code: JobProtocolErrorCode, message: string, options?: { cause?: unknown, remoteCode?: string }) {
    super(code, message, options)
    if (options?.remoteCode !== undefined) this.remoteCode = options.remoteCode
  }
}
