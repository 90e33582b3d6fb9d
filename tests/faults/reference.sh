#!/usr/bin/env bash
# Fixture of the fault-injection tests: the study of lib.sh run stage by stage on 2 ranks,
# uninterrupted; the workdir is kept after each stage ($reference/after-<stage>) as the
# starting point and the expected outputs of the tests of the next stage.
source "$(dirname "$0")/lib.sh"
rm -rf "$reference" && mkdir -p "$reference/empty"
write_config "$reference/config.toml" "$reference/work"
for stage in "${stages[@]}"; do
  mpi "$cfma" "$stage" "$reference/config.toml" > "$reference/$stage.log" 2>&1 \
    || { cat "$reference/$stage.log"; fail "reference $stage"; }
  [[ -e $reference/work/$(done_marker "$stage") ]] || fail "reference $stage left no $(done_marker "$stage")"
  cp -a "$reference/work" "$reference/after-$stage"
done
echo "reference study done in $SECONDS s"
