/**
 * Job records `GET /v1/jobs` (`bazaar jobs`) lists per role: those created last, the latest first.
 * A module of its own so that the CLI reads it without loading the job store.
 */
export const JOBS_PAGE = 1000
