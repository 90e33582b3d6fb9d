#pragma once
// SIGTERM / SIGUSR1 (Slurm's warning signal, `#SBATCH --signal=B:USR1@120`, forwarded to the
// ranks by slurm/cfma.sbatch) only set a flag. Every stage polls it at the boundary of its unit
// of work (a training step, an extracted run, a probed set, a similarity pass, a round of
// preprocessed notes), agrees on it across ranks (par::stop_agreed), saves what it completed and
// throws Interrupted (exit code 3: the job script requeues; the next attempt resumes).
namespace cfma {

// Installed once by the CLI before any stage runs (and by the trainer, for library callers).
void install_stop_signal_handlers();
bool stop_requested();
void clear_stop_request();

}  // namespace cfma
