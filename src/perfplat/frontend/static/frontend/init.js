// Starts GOV.UK Frontend's components (a module, so only browsers it supports run it).
import { initAll } from "../govuk-frontend/govuk-frontend.min.js";

initAll();
