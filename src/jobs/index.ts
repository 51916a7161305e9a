/**
 * The job layer: GPU inventory, capacity, job specs, runtimes and the job store. It knows no
 * transport: the job protocol that runs a job over an attested FramedChannel (`runJobServer`,
 * `runJobClient`) is an adapter in `src/protocols/job`, imported from there.
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
 *   onMetering: (voucher, ctl) => { ... }                       // ctl.pause()/resume() when vouchers lag
 * })                                                            // the lease is released when it returns
 * ```
 *
 * `runJobServer` rejects (after telling the renter in an error frame) only when it refuses a job:
 * bad frames, an invalid spec (JobSpecError codes), more GPUs than the lease holds, a lapsed lease,
 * bad inputs. Once accepted it resolves with `{ reason, exitCode, signal?, detail?, durationMs,
 * outputs }` whatever happens: reason "exited" | "cancelled" (renter cancel, or renter gone:
 * detail CHANNEL_CLOSED) | "timeout" | "budget" (ctl.stop) | "failed" (detail SPAWN_FAILED,
 * RUNTIME_UNAVAILABLE, METERING_FAILED, SUPPLIER_SHUTDOWN). A stop ends the job's whole
 * process group: SIGTERM, SIGKILL after `killGraceMs`.
 *
 * Renter:
 *
 * ```ts
 * const result = await runJobClient(channel, spec, { outputDir, onStdout, onStderr, onTick, onMetering, signal })
 * // result: { exitCode, signal?, reason, detail?, outputs: [{ name, sha256, bytes, path }], missingOutputs, durationMs }
 * ```
 *
 * Wire format: src/wire/job.proto (one JobFrame per frame, exactly one field set; the
 * `metering` field carries the metering layer's own messages on the same channel). Frames ≤ 512 KiB,
 * chunks ≤ 256 KiB, credit-based flow control with a 768 KiB window per direction (JobLink), so a
 * channel's receive buffer stays under 1 MiB whatever the transport.
 */
export { CapacityLedger } from './capacity.js'
export type { CapacityHold, LedgerGpu } from './capacity.js'
export { loadInventory } from './inventory/inventory.js'
export type { GpuClass, GpuConfigEntry, GpuDevice, Inventory, InventoryConfig, LoadInventoryOptions } from './inventory/inventory.js'
export { NVIDIA_SMI_ARGS, parseNvidiaSmi, systemNvidiaSmi } from './inventory/nvidia-smi.js'
export type { NvidiaSmiResult, NvidiaSmiRunner, SmiGpu } from './inventory/nvidia-smi.js'
export { gpuFamily, marketedSizeGb, normaliseGpuModel } from './inventory/normalise.js'
export { isImageReference, isSafeRelativePath, validateJobId, validateJobSpec } from './spec.js'
export { clearWorkRoot, DISCARDED_DIR_PREFIX, WorkDirTrash } from './workdir.js'
export type { WorkDirTrashInit } from './workdir.js'
export { processRuntime } from './runtime/process.js'
export { JobCgroup, JobCgroups, ownCgroupDir } from './runtime/cgroup.js'
export type { ProcessRuntimeInit, ResourceLimits } from './runtime/process.js'
export { buildContainerArgv, CDI_SPEC_DIRS, containerName, containerRuntime, detectContainerEngine, engineEnv, gpuAccessMissing, imageAllowed, ulimitArgs } from './runtime/container.js'
export type { ContainerEngine, ContainerOptions, ContainerRuntime, ContainerRuntimeInit, PullPolicy } from './runtime/container.js'
export type { CommandProbe } from './runtime/detect.js'
export type { Runtime, RuntimeJob, RunningJob, ProcessExit } from './runtime/types.js'
export { JobStore, JOB_STORE_PREFIX, stateForResult } from './store.js'
export type { JobRecord, JobRole, JobSettlement, JobState } from './store.js'
export { CapacityError, InventoryError, JobSpecError, JobStoreError, RuntimeError } from './errors.js'
export type { CapacityErrorCode, InventoryErrorCode, JobSpecErrorCode, JobStoreErrorCode, RuntimeErrorCode } from './errors.js'
export type { JobEndReason, JobInput, JobOutput, JobResult, JobSpec, UsageTick } from './types.js'
