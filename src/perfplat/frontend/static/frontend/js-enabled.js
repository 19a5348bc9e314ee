// GOV.UK Frontend's snippet for the start of <body>: styles for JavaScript, and for browsers
// that run its modules. A file, not inline: the Content-Security-Policy allows no inline script.
document.body.className +=
  " js-enabled" + ("noModule" in HTMLScriptElement.prototype ? " govuk-frontend-supported" : "");
