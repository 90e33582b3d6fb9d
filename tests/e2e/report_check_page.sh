#!/usr/bin/env bash
# The report's browser check (tests/report/check_page.py, run on a real report by
# paper_study.sh) rejects what it must: an unclosed element, a missing image, a console
# message from headless Chromium and a blank page, each named in one line.
set -euo pipefail
build=$1 shared=$2 source=$3
scratch=$build/test-scratch/e2e-report-check-page
rm -rf "$scratch" && mkdir -p "$scratch"
printf '<!doctype html><html><body><div><img src="missing.svg"><script>console.error("boom")</script></body></html>\n' \
  > "$scratch/bad.html"
if /usr/bin/python3 "$source/tests/report/check_page.py" "$scratch/bad.html" > "$scratch/out.txt" 2>&1; then
  cat "$scratch/out.txt"; echo "check_page accepted a broken page"; exit 1
fi
for expected in "<div> opened at line 1 is never closed" "missing.svg does not resolve" 'console: .*"boom"' \
                "the screenshot is blank"; do
  grep -Eq "$expected" "$scratch/out.txt" || { cat "$scratch/out.txt"; echo "no line for: $expected"; exit 1; }
done
printf '<!doctype html><html><body><h1>ok</h1><svg xmlns="http://www.w3.org/2000/svg" width="900" height="900">%s</svg></body></html>\n' \
  "$(for i in $(seq 0 40); do printf '<rect x="%d" y="%d" width="20" height="800" fill="#%02x%02x80"/>' $((i * 21)) 10 $((i * 6)) $((255 - i * 6)); done)" \
  > "$scratch/good.html"
/usr/bin/python3 "$source/tests/report/check_page.py" "$scratch/good.html"
echo "report_check_page: ok"
