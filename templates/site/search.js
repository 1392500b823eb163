// Client-side search (no server). search-index.js lists the pages; the full
// text is an inverted index split by first character (search/<c>.js), loaded
// as scripts only for the words typed, so it also works from file://.
(function () {
  var root = document.body.getAttribute("data-root") || "";
  var q = document.getElementById("q"), out = document.getElementById("results");
  if (!q || !out) return;
  var shards = {}, loading = {};
  window.searchShard = function (c, words) {
    var decoded = {};
    Object.keys(words).forEach(function (w) {
      var p = 0;
      decoded[w] = words[w].map(function (d) { p += d; return p; });
    });
    shards[c] = decoded;
    delete loading[c];
    run();
  };
  function shardOf(w) { return /^[a-z0-9]/.test(w) ? w[0] : "_"; }
  // Same rule as the index: runs of letters and digits, two or more long.
  function words(s) {
    return s.split(/[^\p{L}\p{N}]+/u).filter(function (w) { return w.length >= 2; });
  }
  function load(c) {
    if (shards[c] || loading[c]) return;
    if ((window.SEARCH_SHARDS || "").indexOf(c) < 0) { shards[c] = {}; return; }
    loading[c] = true;
    var el = document.createElement("script");
    el.src = root + "search/" + (c === "_" ? "_" : c) + ".js";
    el.onerror = function () { shards[c] = {}; delete loading[c]; };
    document.head.appendChild(el);
  }
  // Pages holding every word (the last one as a prefix, as it is being typed);
  // null while a shard is still loading.
  function textHits(ws) {
    var hits = null;
    for (var k = 0; k < ws.length; k++) {
      var w = ws[k], sh = shards[shardOf(w)];
      if (!sh) return null;
      var pages = {};
      var last = k === ws.length - 1;
      Object.keys(sh).forEach(function (t) {
        if (t === w || (last && t.indexOf(w) === 0)) sh[t].forEach(function (p) { pages[p] = (pages[p] || 0) + (t === w ? 2 : 1); });
      });
      if (hits === null) hits = pages;
      else Object.keys(hits).forEach(function (p) { if (pages[p]) hits[p] += pages[p]; else delete hits[p]; });
    }
    return hits || {};
  }
  function score(e, s) {
    if (e.i && e.i.toLowerCase() === s) return 1000;
    var t = e.t.toLowerCase(), n = 0;
    if (t === s) n += 500; else if (t.indexOf(s) === 0) n += 300; else if (t.indexOf(s) >= 0) n += 200;
    if (e.i && e.i.toLowerCase().indexOf(s) === 0) n += 400;
    if (e.a.some(function (a) { return a.toLowerCase().indexOf(s) >= 0; })) n += 150;
    if (e.g.some(function (g) { return g.toLowerCase() === s.replace(/^#/, "").replace(/\./g, "_"); })) n += 120;
    return n;
  }
  function esc(s) { var d = document.createElement("div"); d.textContent = s; return d.innerHTML; }
  function run() {
    var s = q.value.trim().normalize("NFC").toLowerCase();
    if (!s || !window.SEARCH_INDEX) { out.innerHTML = ""; return; }
    var ws = words(s);
    ws.forEach(function (w) { load(shardOf(w)); });
    var text = ws.length ? textHits(ws) || {} : {};
    var hits = [];
    window.SEARCH_INDEX.forEach(function (e, i) {
      var n = score(e, s);
      if (text[i]) n += 40 + Math.min(text[i], 20);
      if (n > 0) hits.push([n, e]);
    });
    hits.sort(function (a, b) { return b[0] - a[0] || a[1].t.localeCompare(b[1].t); });
    out.innerHTML = hits.slice(0, 20).map(function (h) {
      var e = h[1];
      return '<li><a href="' + root + e.u + '">' + esc(e.t) + '</a><small>' + esc(e.p) + '</small></li>';
    }).join("");
  }
  q.addEventListener("input", run);
  q.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter") { var a = out.querySelector("a"); if (a) window.location.href = a.getAttribute("href"); }
  });
})();
