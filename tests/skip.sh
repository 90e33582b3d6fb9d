# Sourced by test scripts that may skip themselves: `skip_test BUILD_DIR REASON` records the
# reason (scripts/test.sh prints every recorded reason after ctest, which shows only
# "Skipped") and exits 77 (the tests' SKIP_RETURN_CODE).
skip_test() {
  mkdir -p "$1/test-skips"
  echo "$(basename "$0" .sh): $2" > "$1/test-skips/$(basename "$0" .sh).txt"
  echo "SKIPPED: $2"
  exit 77
}
