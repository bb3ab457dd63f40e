// The console's only script, compiled into the binary. Every page works without it; it adds:
// the overview's refresh, the catalog's filter as you type, "select all" on dead letters, and a
// confirmation before deleting.
"use strict";

(function () {
  // The overview refreshes itself: the same page is fetched again and its #overview swapped in,
  // unless paused or while keyboard focus is inside it (not to pull the focus away).
  const refresh = document.querySelector("[data-refresh]");
  const region = document.getElementById("overview");
  if (refresh && region) {
    const seconds = Number(refresh.dataset.refresh) || 5;
    const status = document.getElementById("refreshed");
    const pause = document.getElementById("pause");
    let paused = false;
    pause.hidden = false;
    pause.addEventListener("click", function () {
      paused = !paused;
      pause.setAttribute("aria-pressed", String(paused));
      pause.textContent = paused ? "Resume updates" : "Pause updates";
    });
    setInterval(function () {
      if (paused || region.contains(document.activeElement)) return;
      fetch(window.location.href, { headers: { "Accept": "text/html" }, cache: "no-store" })
        .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
        .then(function (text) {
          const next = new DOMParser().parseFromString(text, "text/html");
          const fresh = next.getElementById("overview");
          const stamp = next.getElementById("refreshed");
          if (fresh) region.replaceChildren(...fresh.childNodes);
          if (stamp && status) status.textContent = stamp.textContent;
        })
        .catch(function (problem) {
          if (status) status.textContent = "Could not refresh (" + problem + "); trying again.";
        });
    }, seconds * 1000);
  }

  // The catalog: hide the events that do not contain what is typed.
  const search = document.querySelector("input[data-filter]");
  if (search) {
    const items = Array.from(document.querySelectorAll(search.dataset.filter));
    const count = document.getElementById("catalog-count");
    const apply = function () {
      const words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
      let shown = 0;
      for (const item of items) {
        const text = item.dataset.search || "";
        const match = words.every(function (word) { return text.includes(word); });
        item.hidden = !match;
        if (match) shown += 1;
      }
      if (count) count.textContent = shown + (shown === 1 ? " event" : " events") + " of " + items.length + ".";
    };
    search.addEventListener("input", apply);
  }

  // Dead letters: a checkbox that selects every one on the page.
  for (const all of document.querySelectorAll("input[data-select-all]")) {
    const form = all.closest("form");
    all.addEventListener("change", function () {
      for (const box of form.querySelectorAll("input[name='" + all.dataset.selectAll + "']")) box.checked = all.checked;
    });
  }

  // Deleting asks once more, saying how many.
  for (const button of document.querySelectorAll("button[data-confirm]")) {
    button.addEventListener("click", function (event) {
      const form = button.closest("form");
      const every = form.querySelector("input[name='all']");
      const selected = form.querySelectorAll("input[name='id']:checked").length;
      const what = every && every.checked ? "every dead letter of this topic" : selected + " dead letter(s)";
      if (!window.confirm("Delete " + what + "? A deleted dead letter is gone for good.")) event.preventDefault();
    });
  }
})();
