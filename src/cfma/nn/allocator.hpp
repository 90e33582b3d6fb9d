#pragma once
// glibc serves every allocation above 32 MiB (its largest mmap threshold) with a fresh mmap and
// returns it on free, so the 39 MiB conv1 activations and gradients of a 64-batch are
// page-faulted in again on every training step: measured here, that alone made a PyTorch step
// of the regular net 7x slower (1.2 s instead of 0.17 s). Keeping large blocks on the heap
// removes those faults. Process-wide: call it once at the start of a training or extraction
// process (the trainer and bench_train_step do); the library never calls it by itself.
namespace cfma::nn {

// mallopt(M_MMAP_MAX, 0) and a large M_TRIM_THRESHOLD: large blocks come from the heap and
// stay mapped for reuse. Returns false if glibc rejected a setting (non-glibc: no-op, false).
bool keep_large_allocations_mapped();

}  // namespace cfma::nn
