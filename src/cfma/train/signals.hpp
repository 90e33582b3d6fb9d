#pragma once
// SIGTERM / SIGUSR1 (Slurm's pre-kill signal, `#SBATCH --signal=USR1@120`) only set a flag;
// the trainer agrees on it across ranks at the next step, writes a checkpoint and stops.
namespace cfma::train {

void install_stop_signal_handlers();
bool stop_requested();
void clear_stop_request();

}  // namespace cfma::train
