// Runs before every test file: n8n-core writes its instance settings into the user folder, so
// each test process gets a fresh temporary one instead of ~/.n8n.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

process.env.N8N_USER_FOLDER ??= mkdtempSync(join(tmpdir(), 'n8n-profile-webhooks-test-'));
process.env.N8N_ENCRYPTION_KEY ??= 'test-encryption-key-for-unit-tests';
