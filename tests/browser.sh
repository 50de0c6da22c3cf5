#!/usr/bin/env bash
# Browser test of the committed report (a stage of tests/run.sh).
#
# Headless Chromium (Debian's `chromium`, installed here when missing) opens report/index.html and
# report/slides.html straight from disk and checks that:
#   - every figure of report/figures/ is in index.html and rendered with a non-zero size;
#   - every slide's figures render with a non-zero size when that slide is shown;
#   - the arrow keys move between slides;
#   - printing the deck gives one page per slide;
#   - every text of every slide figure renders at least 18 px tall at 1280 x 720;
#   - the presenter view (key P) opens with the slide's speaker notes, and every slide has notes;
#   - `report pdf` writes slides.pdf with one page per slide and extractable text (pdftotext,
#     poppler-utils, installed here when missing) and report.pdf;
#   - nothing was fetched from the network (the pages are self-contained);
#   - every executed notebook, rendered to HTML, fits a 1,000 px page with no CHECK line visible.
# The measuring script is injected into a probe copy under target/browser/ (the shipped pages
# carry no test code); screenshots of the real files are saved there for people to look at:
#   target/browser/slides-first.png, target/browser/report-top.png, target/browser/slide-N.png
#   (three slides) and target/browser/slides-pdf-1.png (the first PDF page).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
OUT="$ROOT/target/browser"
mkdir -p "$OUT"

if ! command -v chromium >/dev/null 2>&1; then
  if [[ $(id -u) -ne 0 ]]; then
    echo "browser: chromium is missing and installing it needs root: apt-get install -y chromium" >&2
    exit 1
  fi
  echo "browser: installing Debian's chromium"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
if ! command -v pdftotext >/dev/null 2>&1 || ! command -v pdftoppm >/dev/null 2>&1; then
  if [[ $(id -u) -ne 0 ]]; then
    echo "browser: pdftotext is missing and installing it needs root: apt-get install -y poppler-utils" >&2
    exit 1
  fi
  echo "browser: installing poppler-utils"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils >/dev/null
fi

# `--install-only`: stop once Chromium and poppler-utils are there (tests/run.sh installs in the
# background while the Rust stages build).
if [[ "${1:-}" == "--install-only" ]]; then exit 0; fi

PROFILE=$(mktemp -d)
trap 'rm -rf "$PROFILE"' EXIT
CHROME=(chromium --headless --no-sandbox --disable-gpu --disable-background-networking
        --disable-component-update --disable-sync --no-first-run --user-data-dir="$PROFILE"
        --hide-scrollbars --window-size=1280,720)
fail=0
pass() { echo "browser: ok   $1"; }
failed() { echo "browser: FAIL $1" >&2; fail=1; }

# The probe: measures each figure's rendered box and, in the deck, walks through every slide and
# presses ArrowRight once; writes one line "PROBE {json}" into the DOM for --dump-dom.
PROBE='<script>
(function () {
  function boxes(root) {
    return Array.prototype.map.call(root.querySelectorAll("figure.fig svg, img"), function (e) {
      var r = e.getBoundingClientRect();
      var f = e.closest("figure");
      return { id: f ? f.id : (e.getAttribute("src") || "?"), w: Math.round(r.width), h: Math.round(r.height) };
    });
  }
  // Smallest rendered text of the SVG figures under root: font size in SVG units times the
  // scale of the figure on screen (rendered width / viewBox width), in CSS pixels.
  function minText(root) {
    var min = Infinity, where = "";
    Array.prototype.forEach.call(root.querySelectorAll("figure.fig svg"), function (svg) {
      var vb = svg.viewBox && svg.viewBox.baseVal;
      var w = vb && vb.width ? vb.width : svg.width.baseVal.value;
      var scale = svg.getBoundingClientRect().width / w;
      Array.prototype.forEach.call(svg.querySelectorAll("text"), function (t) {
        if (!t.textContent.trim()) { return; }
        var px = parseFloat(getComputedStyle(t).fontSize) * scale;
        if (px < min) { min = px; where = svg.closest("figure").id + " \"" + t.textContent.trim().slice(0, 30) + "\""; }
      });
    });
    return { min: min, where: where };
  }
  var res = { figures: [], keyboard: null, slides: 0, min_text: null, min_text_at: "", notes_missing: 0, presenter: null };
  var slides = document.querySelectorAll("section.slide");
  if (window.deck && slides.length) {
    res.slides = slides.length;
    var low = Infinity;
    for (var i = 0; i < slides.length; i++) {
      window.deck.show(i);
      boxes(slides[i]).forEach(function (b) { b.id = "slide" + (i + 1) + ":" + b.id; res.figures.push(b); });
      var m = minText(slides[i]);
      if (m.min < low) { low = m.min; res.min_text_at = "slide" + (i + 1) + ":" + m.where; }
      var n = slides[i].querySelector("aside.notes");
      if (!n || n.textContent.trim().length < 40) { res.notes_missing++; }
    }
    res.min_text = low === Infinity ? -1 : Math.round(low * 10) / 10;
    window.deck.show(2);
    document.dispatchEvent(new KeyboardEvent("keydown", { key: "p", bubbles: true }));
    var panel = document.getElementById("presenter"), pn = document.getElementById("p-notes");
    var own = slides[2].querySelector("aside.notes");
    var open = window.deck.presenter() && panel && panel.getBoundingClientRect().width > 0 && pn && own &&
      pn.textContent.trim().length > 40 && pn.textContent.trim() === own.textContent.trim() &&
      document.querySelector("#p-next-frame section.slide") !== null;
    document.dispatchEvent(new KeyboardEvent("keydown", { key: "p", bubbles: true }));
    res.presenter = open && !window.deck.presenter() ? "ok" : "failed";
    window.deck.show(0);
    document.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowRight", bubbles: true }));
    var after = window.deck.current();
    document.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowLeft", bubbles: true }));
    res.keyboard = (after === 1 && window.deck.current() === 0) ? "ok" : ("right->" + after + " left->" + window.deck.current());
  } else {
    res.figures = boxes(document);
  }
  res.external = Array.prototype.filter.call(document.querySelectorAll("[src],link[href]"), function (e) {
    return /^(https?:)?\/\//.test(e.getAttribute("src") || e.getAttribute("href") || "");
  }).length;
  var pre = document.createElement("pre");
  pre.textContent = "PROBE " + JSON.stringify(res);
  document.body.appendChild(pre);
})();
</script>'

probe() {  # probe PAGE -> prints the PROBE json
  local page=$1 copy="$OUT/probe-$(basename "$1")"
  # Insert the probe just before </body>.
  printf '%s\n' "$PROBE" > "$OUT/probe.js.html"
  awk -v f="$OUT/probe.js.html" '/<\/body>/ && !done { while ((getline l < f) > 0) print l; done=1 } { print }' "$page" > "$copy"
  "${CHROME[@]}" --virtual-time-budget=3000 --dump-dom "file://$copy" 2>"$OUT/chromium-$(basename "$1").log" \
    | grep -o 'PROBE {.*}' | head -1 | sed 's/^PROBE //'
}

# field JSON KEY: a top-level number or string value (the probe writes flat, simple JSON).
field() { sed -n "s/.*\"$2\":\"\{0,1\}\([^,\"}]*\).*/\1/p" <<<"$1" | head -1; }
count() { { grep -oE "$1" <<<"$2" || true; } | wc -l; }
figures_total() { count '"w":' "$1"; }
figures_zero() { count '"w":0,|"h":0\}' "$1"; }

# --- the report ---------------------------------------------------------------------------
expected=$( (find report/figures -maxdepth 1 -name '*.svg' 2>/dev/null || true) | wc -l)
r=$(probe report/index.html)
if [[ -n "$r" ]]; then pass "index.html loaded and the probe ran"; else failed "index.html loaded and the probe ran"; fi
total=$(figures_total "$r"); zero=$(figures_zero "$r")
if [[ $expected -ge 1 && $total -eq $expected ]]; then pass "index.html shows all $expected figures of report/figures (found $total)"; else failed "index.html shows all $expected figures of report/figures (found $total)"; fi
if [[ $zero -eq 0 ]]; then pass "index.html: every figure has a non-zero size ($zero empty)"; else failed "index.html: every figure has a non-zero size ($zero empty)"; fi
if [[ "$(field "$r" external)" == 0 ]]; then pass "index.html loads nothing from the network"; else failed "index.html loads nothing from the network"; fi
[[ $zero -eq 0 ]] || echo "$r" >&2

# --- the slides ---------------------------------------------------------------------------
s=$(probe report/slides.html)
if [[ -n "$s" ]]; then pass "slides.html loaded and the probe ran"; else failed "slides.html loaded and the probe ran"; fi
n_slides=$(field "$s" slides)
in_deck=$(count '<figure class="fig"' "$(cat report/slides.html)")
total=$(figures_total "$s"); zero=$(figures_zero "$s")
if [[ $n_slides -ge 5 ]]; then pass "slides.html has $n_slides slides"; else failed "slides.html has $n_slides slides"; fi
if [[ $in_deck -ge 1 && $total -eq $in_deck ]]; then pass "slides.html: $total of $in_deck figures measured"; else failed "slides.html: $total of $in_deck figures measured"; fi
if [[ $zero -eq 0 ]]; then pass "slides.html: every figure has a non-zero size on its slide ($zero empty)"; else failed "slides.html: every figure has a non-zero size on its slide ($zero empty)"; fi
if [[ "$(field "$s" keyboard)" == ok ]]; then pass "slides.html: ArrowRight/ArrowLeft move between slides ($(field "$s" keyboard))"; else failed "slides.html: ArrowRight/ArrowLeft move between slides ($(field "$s" keyboard))"; fi
if [[ "$(field "$s" external)" == 0 ]]; then pass "slides.html loads nothing from the network"; else failed "slides.html loads nothing from the network"; fi
[[ $zero -eq 0 ]] || echo "$s" >&2
min_text=$(field "$s" min_text)
if awk -v m="$min_text" 'BEGIN { exit !(m >= 18) }'; then pass "slides.html: smallest slide-figure text renders at $min_text px (>= 18) at 1280x720"; else failed "slides.html: smallest slide-figure text renders at $min_text px (>= 18) at 1280x720 ($(field "$s" min_text_at))"; fi
if [[ "$(field "$s" notes_missing)" == 0 ]]; then pass "slides.html: every slide has speaker notes"; else failed "slides.html: $(field "$s" notes_missing) slide(s) without speaker notes"; fi
if [[ "$(field "$s" presenter)" == ok ]]; then pass "slides.html: key P opens the presenter view with the slide's notes and the next slide, and closes it"; else failed "slides.html: presenter view ($(field "$s" presenter))"; fi

# --- printing: one slide per page -----------------------------------------------------------
"${CHROME[@]}" --no-pdf-header-footer --print-to-pdf="$OUT/slides.pdf" "file://$ROOT/report/slides.html" 2>>"$OUT/chromium-print.log" >/dev/null
pages=$(grep -a -c '/Type */Page\b' "$OUT/slides.pdf" || true)
if [[ $pages -eq $n_slides ]]; then pass "printing slides.html gives one page per slide ($pages pages, $n_slides slides)"; else failed "printing slides.html gives one page per slide ($pages pages, $n_slides slides)"; fi

# --- report pdf: slides.pdf has one page per slide with extractable text --------------------
REPORT_BIN=${REPORT_BIN:-$ROOT/target/release/report}
if [[ -x "$REPORT_BIN" ]]; then
  rm -f report/slides.pdf report/report.pdf report/slides-notes.pdf
  if "$REPORT_BIN" pdf --out report >"$OUT/report-pdf.log" 2>&1; then pass "report pdf wrote report.pdf, slides.pdf and slides-notes.pdf"; else failed "report pdf ($(tail -3 "$OUT/report-pdf.log"))"; fi
  if [[ -s report/slides.pdf ]]; then
    pdf_pages=$(pdfinfo report/slides.pdf 2>/dev/null | sed -n 's/^Pages: *//p')
    if [[ "$pdf_pages" == "$n_slides" ]]; then pass "slides.pdf has one page per slide ($pdf_pages pages)"; else failed "slides.pdf has one page per slide ($pdf_pages pages, $n_slides slides)"; fi
    title=$(sed -n 's:.*<h1 id="[^"]*">\([^<]*\)</h1>.*:\1:p' report/slides.html | head -1)
    first=$(pdftotext -f 1 -l 1 report/slides.pdf - 2>/dev/null | tr -s ' \n' ' ')
    if [[ -n "$title" && "$first" == *"$title"* ]]; then pass "slides.pdf text is extractable (page 1 has \"$title\")"; else failed "slides.pdf text is extractable (page 1 lacks \"$title\": ${first:0:80})"; fi
    last=$(pdftotext -f "$n_slides" -l "$n_slides" report/slides.pdf - 2>/dev/null | tr -s ' \n' ' ')
    if [[ "$last" == *"Reproduce"* ]]; then pass "slides.pdf last page is the last slide"; else failed "slides.pdf last page is the last slide (${last:0:80})"; fi
    rep=$(pdftotext -f 1 -l 1 report/report.pdf - 2>/dev/null | wc -w)
    if [[ $rep -gt 20 ]]; then pass "report.pdf text is extractable ($rep words on page 1)"; else failed "report.pdf text is extractable ($rep words on page 1)"; fi
    notes=$(pdftotext report/slides-notes.pdf - 2>/dev/null | grep -c 'Say:' || true)
    if [[ $notes -eq $n_slides ]]; then pass "slides-notes.pdf prints every slide's notes ($notes)"; else failed "slides-notes.pdf prints every slide's notes ($notes of $n_slides)"; fi
    rm -f "$OUT"/slides-pdf-1*.png
    pdftoppm -png -r 48 -f 1 -l 1 -singlefile report/slides.pdf "$OUT/slides-pdf-1" && pass "screenshot saved: $OUT/slides-pdf-1.png"
  fi
else
  failed "report pdf: no binary at $REPORT_BIN (cargo build --release first)"
fi

# --- screenshots of the real files ----------------------------------------------------------
for k in 3 6 7; do
  rm -f "$OUT/slide-$k.png"
  "${CHROME[@]}" --screenshot="$OUT/slide-$k.png" "file://$ROOT/report/slides.html#$k" 2>>"$OUT/chromium-shot.log" >/dev/null
  if [[ -s "$OUT/slide-$k.png" ]]; then pass "screenshot saved: $OUT/slide-$k.png"; else failed "screenshot saved: $OUT/slide-$k.png"; fi
done
rm -f "$OUT/slides-first.png" "$OUT/report-top.png"
"${CHROME[@]}" --screenshot="$OUT/slides-first.png" "file://$ROOT/report/slides.html" 2>>"$OUT/chromium-shot.log" >/dev/null
"${CHROME[@]}" --screenshot="$OUT/report-top.png" "file://$ROOT/report/index.html" 2>>"$OUT/chromium-shot.log" >/dev/null
if [[ -s "$OUT/slides-first.png" && -s "$OUT/report-top.png" ]]; then pass "screenshots saved: $OUT/slides-first.png, $OUT/report-top.png"; else failed "screenshots saved: $OUT/slides-first.png, $OUT/report-top.png"; fi

# --- the notebooks ----------------------------------------------------------------------------
# Every executed notebook (notebooks/*.ipynb, committed with its outputs) is rendered to HTML by
# nbconvert without its hidden check cell and opened on a 1,000 px wide page: no output (table,
# figure, text) may be wider than the page, no output may scroll sideways, and no CHECK line may be
# visible. A screenshot of each rendered notebook is saved as target/browser/notebook-NAME.png.
NB_VENV="$ROOT/.venv"
if [[ ! -x "$NB_VENV/bin/jupyter" ]]; then
  echo "browser: installing nbconvert into $NB_VENV"
  python3 -m venv "$NB_VENV"
  "$NB_VENV/bin/pip" install --quiet --disable-pip-version-check -r tests/notebooks/requirements.txt
fi
NB_PROBE='<script>
(function () {
  var page = document.documentElement.clientWidth, res = { page: page, outputs: 0, wide: [], checks: 0 };
  Array.prototype.forEach.call(document.querySelectorAll(".jp-OutputArea-output"), function (o, i) {
    res.outputs++;
    var widest = o.scrollWidth, right = o.getBoundingClientRect().right;
    Array.prototype.forEach.call(o.querySelectorAll("*"), function (e) {
      var r = e.getBoundingClientRect();
      if (r.width > 0) { right = Math.max(right, r.right); }
    });
    if (o.scrollWidth > o.clientWidth + 1 || right > page + 1) {
      var cell = o.closest(".jp-Cell"), cells = document.querySelectorAll(".jp-Cell");
      res.wide.push({ cell: Array.prototype.indexOf.call(cells, cell), scroll: o.scrollWidth, box: o.clientWidth, right: Math.round(right) });
    }
    if (/(^|\n)CHECK /.test(o.textContent)) { res.checks++; }
  });
  var pre = document.createElement("pre");
  pre.textContent = "PROBE " + JSON.stringify(res);
  document.body.appendChild(pre);
})();
</script>'
NB_OUT="$OUT/notebooks"
mkdir -p "$NB_OUT"
printf '%s\n' "$NB_PROBE" > "$OUT/nbprobe.js.html"
for nb in notebooks/*.ipynb; do
  name=$(basename "${nb%.ipynb}")
  "$NB_VENV/bin/jupyter" nbconvert --to html --TagRemovePreprocessor.remove_cell_tags='{"remove-cell"}' \
    --output-dir "$NB_OUT" --log-level=WARN "$nb"
  page="$NB_OUT/$name.html"
  copy="$NB_OUT/probe-$name.html"
  awk -v f="$OUT/nbprobe.js.html" '/<\/body>/ && !done { while ((getline l < f) > 0) print l; done=1 } { print }' "$page" > "$copy"
  r=$(chromium --headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update \
        --disable-sync --no-first-run --user-data-dir="$PROFILE" --hide-scrollbars --window-size=1000,800 \
        --virtual-time-budget=5000 --dump-dom "file://$copy" 2>"$OUT/chromium-$name.log" \
      | grep -o 'PROBE {.*}' | head -1 | sed 's/^PROBE //')
  outputs=$(field "$r" outputs); checks=$(field "$r" checks)
  if [[ -n "$r" && ${outputs:-0} -ge 5 ]]; then pass "$name: rendered, $outputs outputs measured"; else failed "$name: rendered and measured ($r)"; fi
  if [[ "$r" == *'"wide":[]'* ]]; then pass "$name: every output fits the 1000 px page"; else failed "$name: outputs wider than the 1000 px page: $(sed -n 's/.*"wide":\(\[[^]]*\]\).*/\1/p' <<<"$r")"; fi
  if [[ "$checks" == 0 ]]; then pass "$name: no CHECK line visible"; else failed "$name: $checks outputs show CHECK lines"; fi
  rm -f "$OUT/notebook-$name.png"
  chromium --headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update \
    --disable-sync --no-first-run --user-data-dir="$PROFILE" --hide-scrollbars --window-size=1000,6000 \
    --virtual-time-budget=3000 --screenshot="$OUT/notebook-$name.png" "file://$page" 2>>"$OUT/chromium-shot.log" >/dev/null || true
done

exit $fail
