// Polls the server-rendered body of the status page every second and swaps
// it in place when it changed, flashing the elements whose text changed.
(function () {
  const box = document.getElementById("status");
  let last = null;
  function swap(html) {
    const before = {};
    box.querySelectorAll(".tablet, #revision").forEach((e) => { before[e.id] = e.textContent; });
    box.innerHTML = html;
    box.querySelectorAll(".tablet, #revision").forEach((e) => {
      if (before[e.id] !== undefined && before[e.id] !== e.textContent) e.classList.add("changed");
    });
  }
  async function tick() {
    try {
      const r = await fetch("/status/body" + location.search, { cache: "no-store" });
      if (!r.ok) throw new Error(r.status);
      const html = await r.text();
      if (last !== null && html !== last) swap(html);
      last = html;
      document.body.dataset.live = "ok";
    } catch (e) {
      document.body.dataset.live = "error";
    }
    setTimeout(tick, 1000);
  }
  tick();
})();
