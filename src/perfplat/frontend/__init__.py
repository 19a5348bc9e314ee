"""The front-end layer every server-rendered page uses: the vendored GOV.UK Frontend, the page
template (`frontend/base.html`), reusable GOV.UK component includes, and the HTML answers to
unknown pages and server errors."""
