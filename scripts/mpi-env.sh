# Sourced by the scripts: lets Open MPI run as root (containers, CI) and oversubscribe cores
# (4 ranks on a 2-core machine in the tests).
export OMPI_ALLOW_RUN_AS_ROOT=1
export OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1
