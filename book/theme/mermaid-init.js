// Render ```mermaid code blocks with the local copy of mermaid (theme/mermaid.min.js).
// No network access is needed: the whole library ships with the book.
(function () {
  "use strict";
  function isDark() {
    var cls = document.documentElement.classList;
    return cls.contains("coal") || cls.contains("navy") || cls.contains("ayu");
  }
  function render() {
    if (typeof mermaid === "undefined") {
      return;
    }
    var blocks = document.querySelectorAll("code.language-mermaid");
    if (blocks.length === 0) {
      return;
    }
    blocks.forEach(function (code) {
      var pre = code.parentElement;
      var div = document.createElement("div");
      div.className = "mermaid";
      div.textContent = code.textContent;
      pre.replaceWith(div);
    });
    mermaid.initialize({
      startOnLoad: false,
      securityLevel: "strict",
      theme: isDark() ? "dark" : "default",
      flowchart: { htmlLabels: true, curve: "basis" }
    });
    mermaid.run({ querySelector: "div.mermaid" }).then(function () {
      document.documentElement.setAttribute("data-mermaid", "rendered");
    }, function (err) {
      document.documentElement.setAttribute("data-mermaid", "error");
      console.error("mermaid:", err);
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", render);
  } else {
    render();
  }
})();
