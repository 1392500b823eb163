// Client-side search over the index written at export time (no server).
(function () {
  var root = document.body.getAttribute("data-root") || "";
  var q = document.getElementById("q"), out = document.getElementById("results");
  if (!q || !out) return;
  function score(e, s) {
    if (e.i && e.i.toLowerCase() === s) return 1000;
    var t = e.t.toLowerCase(), n = 0;
    if (t === s) n += 500; else if (t.indexOf(s) === 0) n += 300; else if (t.indexOf(s) >= 0) n += 200;
    if (e.i && e.i.toLowerCase().indexOf(s) === 0) n += 400;
    if (e.a.some(function (a) { return a.toLowerCase().indexOf(s) >= 0; })) n += 150;
    if (e.g.some(function (g) { return g.toLowerCase() === s.replace(/^#/, "").replace(/\./g, "_"); })) n += 120;
    if (e.x.toLowerCase().indexOf(s) >= 0) n += 40;
    return n;
  }
  function esc(s) { var d = document.createElement("div"); d.textContent = s; return d.innerHTML; }
  function run() {
    var s = q.value.trim().toLowerCase();
    if (!s || !window.SEARCH_INDEX) { out.innerHTML = ""; return; }
    var hits = [];
    window.SEARCH_INDEX.forEach(function (e) { var n = score(e, s); if (n > 0) hits.push([n, e]); });
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
