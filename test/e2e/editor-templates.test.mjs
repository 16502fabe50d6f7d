/**
 * The Profile Webhook as a builder meets it, in the real n8n editor (headless Chromium driven by
 * playwright-core): Mustache templates typed or pasted into URL, header value and body stay
 * templates (Fixed mode, stored verbatim), and running the workflow from the editor sends the
 * rendered request to the suite's receiver.
 *
 * Chromium: Debian's `chromium` package (`.ci/run` installs it); CHROMIUM_PATH overrides the path.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';

import { chromium } from 'playwright-core';

import { call, n8n, OWNER, ownerCookie, received, sleep, uniqueEmail } from './helpers.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const NODE_NAME = 'CRM Template';
const TRIGGER_NAME = 'When clicking Execute workflow';

/** A fresh workflow (the editor autosaves): a manual trigger with one pinned item, then the node. */
async function createWorkflow(baseUrl, cookie, email) {
	const workflow = {
		name: `Editor templates ${Date.now()}`,
		active: false,
		settings: { executionOrder: 'v1' },
		nodes: [
			{
				id: 'b7f7c1de-0000-4000-8000-000000000001',
				name: TRIGGER_NAME,
				type: 'n8n-nodes-base.manualTrigger',
				typeVersion: 1,
				position: [0, 0],
				parameters: {},
			},
			{
				id: 'b7f7c1de-0000-4000-8000-000000000002',
				name: NODE_NAME,
				type: 'n8n-nodes-profile-webhooks.profileWebhook',
				typeVersion: 1,
				position: [300, 0],
				parameters: { triggerOn: 'always', method: 'POST', url: '' },
			},
		],
		connections: { [TRIGGER_NAME]: { main: [[{ node: NODE_NAME, type: 'main', index: 0 }]] } },
		// A plain item, as a CRM node or Edit Fields would give: each field is a profile property.
		pinData: { [TRIGGER_NAME]: [{ json: { email, plan: 'gold' } }] },
	};
	const answer = await call(`${baseUrl}/rest/workflows`, { headers: { cookie }, body: workflow });
	assert.equal(answer.status, 200, answer.text);
	return answer.json.data.id;
}

describe('editor: Mustache templates in the Profile Webhook', { skip: !fs.existsSync(CHROMIUM) && `no Chromium at ${CHROMIUM}` }, () => {
	let run;
	let browser;

	before(async () => {
		run = await n8n();
		browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
	});
	after(async () => {
		await browser?.close();
		await run?.release();
	});

	test('typed and pasted templates stay Fixed, are stored verbatim, and the run sends the rendered request', async () => {
		const email = uniqueEmail('editor+ada');
		const cookie = await ownerCookie(run.baseUrl);
		const workflowId = await createWorkflow(run.baseUrl, cookie, email);

		const context = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
		await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: run.baseUrl });
		const page = await context.newPage();
		try {
			await page.goto(`${run.baseUrl}/signin`);
			await page.locator('input[type=email]').fill(OWNER.email);
			await page.locator('input[type=password]').fill(OWNER.password);
			await page.keyboard.press('Enter');
			await page.waitForURL((url) => !url.pathname.includes('signin'), { timeout: 30_000 });

			await page.goto(`${run.baseUrl}/workflow/${workflowId}`);
			const node = page.locator('[data-test-id="canvas-node"]', { hasText: NODE_NAME });
			await node.waitFor({ timeout: 60_000 });
			await node.dblclick();

			// The URL: pasted into the empty field, the case that turned into an expression before.
			const urlTemplate = `${run.receiverUrl}/crm/contacts/{{email.0}}?plan={{plan.0}}`;
			const urlInput = page.locator('[data-test-id="parameter-input-url"]');
			await urlInput.locator('[data-test-id="parameter-input-field"]').click();
			await page.evaluate(async (text) => navigator.clipboard.writeText(text), urlTemplate);
			await page.keyboard.press('Control+V');

			// The body: typed fast into the empty textarea.
			const bodyTemplate = '{"email": "{{email.0}}", "plan": "{{plan.0}}"}';
			const bodyInput = page.locator('[data-test-id="parameter-input-body"]');
			await bodyInput.locator('[data-test-id="parameter-input-field"]').click();
			await page.keyboard.type(bodyTemplate);

			// A header value, inside the Headers fixedCollection.
			await page.getByText('Add Header').first().click();
			const headerName = page.locator('[data-test-id="parameter-input-name"]').last();
			await headerName.locator('[data-test-id="parameter-input-field"]').click();
			await page.keyboard.type('X-Plan');
			const headerValue = page.locator('[data-test-id="parameter-input-value"]').last();
			await headerValue.locator('[data-test-id="parameter-input-field"]').click();
			await page.keyboard.type('{{plan.0}}');
			await sleep(500);

			for (const [label, container] of [
				['URL', urlInput],
				['Body', bodyInput],
				['Header value', headerValue],
			]) {
				assert.equal(
					await container.locator('[data-test-id="inline-expression-editor-input"]').count(),
					0,
					`${label} stayed in Fixed mode (no expression editor)`,
				);
			}
			assert.equal(await page.getByText('[invalid syntax]').count(), 0, 'no "[invalid syntax]" anywhere');

			await page.locator('[data-test-id="ndv-close-button"]').click();
			await page.keyboard.press('Control+s');
			await sleep(1000);

			const stored = await page.evaluate(async (id) => {
				const answer = await fetch(`/rest/workflows/${id}`, { headers: { 'browser-id': localStorage['n8n-browserId'] } });
				return (await answer.json()).data;
			}, workflowId);
			const parameters = stored.nodes.find((n) => n.name === NODE_NAME).parameters;
			assert.equal(parameters.url, urlTemplate, 'the URL is stored verbatim, not as an "=" expression');
			assert.equal(parameters.body, bodyTemplate);
			assert.deepEqual(parameters.headers, { header: [{ name: 'X-Plan', value: '{{plan.0}}' }] });

			const before = (await received(run)).length;
			await page.locator('[data-test-id="execute-workflow-button"]').click();
			const expectedUrl = `/crm/contacts/${encodeURIComponent(email)}?plan=gold`;
			let request;
			for (let i = 0; i < 100 && !request; i++) {
				request = (await received(run)).slice(before).find((r) => r.url === expectedUrl);
				if (!request) await sleep(200);
			}
			assert.ok(request, `the receiver got POST ${expectedUrl}; it got ${JSON.stringify((await received(run)).slice(before))}`);
			assert.equal(request.method, 'POST');
			assert.equal(request.headers['x-plan'], 'gold');
			assert.deepEqual(JSON.parse(request.body), { email, plan: 'gold' });
		} catch (error) {
			const shot = `${run.runDir ?? '/tmp'}/editor-templates-failure.png`;
			await page.screenshot({ path: shot, fullPage: true }).catch(() => {});
			error.message += ` (screenshot: ${shot})`;
			throw error;
		} finally {
			await context.close();
		}
	});
});
