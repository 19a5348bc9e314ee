// Follows background work on an upload (uploads/progress.html): asks the upload API how far
// the work has gone every few seconds, moves the progress bar, and opens the upload's page
// again once the work is done, which then shows the preview or the row errors. Progressive
// enhancement: without JavaScript the page's "Check again now" link does the same, and the
// page never reloads itself on a timer (WCAG 2.2.1).
const panel = document.querySelector("[data-upload-status-url]");
const IN_PROGRESS = new Set(["received", "queued", "committing"]);
const EVERY_MS = 2000;

async function poll() {
  if (document.hidden) {
    // Nobody is looking: ask again when they come back.
    document.addEventListener("visibilitychange", poll, { once: true });
    return;
  }
  let upload;
  try {
    const response = await fetch(panel.dataset.uploadStatusUrl, {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
    if (!response.ok) {
      // Signed out, or the upload is gone: the "Check again now" link still works.
      return;
    }
    upload = await response.json();
  } catch {
    // The network failed once: try again later.
    window.setTimeout(poll, EVERY_MS);
    return;
  }
  if (!IN_PROGRESS.has(upload.status)) {
    window.location.reload();
    return;
  }
  const bar = panel.querySelector("progress");
  const text = panel.querySelector("[data-upload-progress-text]");
  bar.value = upload.progress;
  bar.textContent = `${upload.progress}%`;
  text.textContent = String(upload.progress);
  window.setTimeout(poll, EVERY_MS);
}

if (panel && window.fetch) {
  window.setTimeout(poll, EVERY_MS);
}
