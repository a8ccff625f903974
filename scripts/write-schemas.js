// `npm run schema`: writes the JSON Schema of `--json` events and of `--report` files to schema/
// from their zod definitions (src/progress/schema.ts), as the package ships them. Run after
// `npm run build`; src/progress/schema.test.ts fails while the files are out of date.
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { jsonSchemaFiles } from "../dist/progress/schema.js";

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "schema");
for (const [name, schema] of Object.entries(jsonSchemaFiles())) {
  await writeFile(path.join(dir, name), `${JSON.stringify(schema, null, 2)}\n`);
  console.log(`wrote schema/${name}`);
}
