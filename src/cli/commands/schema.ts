import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Command } from 'commander';
import { eventJsonSchema } from '../../events/validate.js';
import { SCHEMA_VERSION } from '../../events/schema.js';

export function schemaCommand(): Command {
  return new Command('schema')
    .description('Print or write the canonical event JSON Schema')
    .option('--out <dir>', 'write event.v<N>.schema.json into this directory')
    .action(async (o) => {
      const schema = { $id: `https://riskloop.dev/schema/event.v${SCHEMA_VERSION}.json`, title: `riskloop exchange event v${SCHEMA_VERSION}`, ...eventJsonSchema() };
      const text = JSON.stringify(schema, null, 2) + '\n';
      if (!o.out) return void process.stdout.write(text);
      await mkdir(o.out, { recursive: true });
      const file = join(o.out, `event.v${SCHEMA_VERSION}.schema.json`);
      await writeFile(file, text);
      process.stdout.write(`wrote ${file}\n`);
    });
}
