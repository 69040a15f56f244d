// Copies the front-end files Tashil serves from node_modules into var/vendor,
// which Django collects as static files under "vendor/". Nothing is fetched at
// run time: the system must work on an isolated intranet.
import { cpSync, existsSync, mkdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const nm = join(root, "node_modules");
const out = join(root, "var", "vendor");

const files = {
  "bootstrap/bootstrap.rtl.min.css": "bootstrap/dist/css/bootstrap.rtl.min.css",
  "bootstrap/bootstrap.min.css": "bootstrap/dist/css/bootstrap.min.css",
  "bootstrap/bootstrap.bundle.min.js": "bootstrap/dist/js/bootstrap.bundle.min.js",
  "htmx/htmx.min.js": "htmx.org/dist/htmx.min.js",
  "leaflet/leaflet.js": "leaflet/dist/leaflet.js",
  "leaflet/leaflet.css": "leaflet/dist/leaflet.css",
  "leaflet/images": "leaflet/dist/images",
  "chartjs/chart.umd.min.js": "chart.js/dist/chart.umd.min.js",
  "jalalidatepicker/jalalidatepicker.min.js": "@majidh1/jalalidatepicker/dist/jalalidatepicker.min.js",
  "jalalidatepicker/jalalidatepicker.min.css": "@majidh1/jalalidatepicker/dist/jalalidatepicker.min.css",
  // Renamed: brackets in the upstream file name upset some static storages.
  "vazirmatn/Vazirmatn-wght.woff2": "vazirmatn/fonts/webfonts/Vazirmatn[wght].woff2",
};

rmSync(out, { recursive: true, force: true });
for (const [dest, src] of Object.entries(files)) {
  const target = join(out, dest);
  mkdirSync(dirname(target), { recursive: true });
  cpSync(join(nm, src), target, { recursive: true });
  // A minified file names its source map in a sourceMappingURL comment, and
  // the production static storage refuses to collect a file whose reference
  // is missing: the map goes beside it.
  const map = join(nm, src) + ".map";
  if (statSync(join(nm, src)).isFile() && existsSync(map)) {
    cpSync(map, target + ".map");
  }
}
writeFileSync(join(out, ".copied"), new Date().toISOString() + "\n");
console.log(`copied ${Object.keys(files).length} asset entries into var/vendor`);
