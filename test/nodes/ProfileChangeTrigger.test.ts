/**
 * The Profile Change Trigger in n8n-core's real TriggerContext over the real embedded store, with
 * changes made by a real Profile Webhook Trigger (served on 127.0.0.1) and by the engine, and its
 * items fed to a real Profile Webhook that sends to a local receiver: the outgoing goal.
 *
 * The trigger polls with the real clock (a short poll interval); tests wait for conditions, they
 * never assert on time.
 */
import { randomUUID } from 'node:crypto';

import { NodeOperationError, type INodeExecutionData, type INodeParameters } from 'n8n-workflow';

import type { ChangeItem } from '../../lib/changes/changeItem';
import type { ProfileEngine } from '../../lib/profiles/engine';
import { getProfileEngine } from '../../lib/store/registry';
import { ProfileChangeTrigger } from '../../nodes/ProfileChangeTrigger/ProfileChangeTrigger.node';
import { ProfileWebhook } from '../../nodes/ProfileWebhook/ProfileWebhook.node';
import { ProfileWebhookTrigger } from '../../nodes/ProfileWebhookTrigger/ProfileWebhookTrigger.node';
import { activateTriggerNode, runExecuteNode, startWebhookNode, type ActiveTrigger, type WebhookNodeServer } from '../helpers/n8n';
import { startReceiver, type Receiver } from '../helpers/receiver';

const WORKFLOW_ID = 'wf-change-trigger';
let store: ProfileEngine;
let incoming: WebhookNodeServer;
let receiver: Receiver;
const active: ActiveTrigger[] = [];

beforeAll(async () => {
	store = getProfileEngine();
	receiver = await startReceiver();
	incoming = await startWebhookNode({
		nodeType: new ProfileWebhookTrigger(),
		parameters: {
			path: 'profiles',
			authentication: 'none',
			identifierProperty: 'email',
			createProfiles: true,
			mappings: {
				mapping: [
					{ field: '$.tier', property: 'tier', mode: 'set' },
					{ field: '$.nickname', property: 'nickname', mode: 'set' },
				],
			},
			timelineEvents: { event: [{ eventType: 'order', dateField: '', idField: '$.orderId', dataFields: 'orderId' }] },
		},
	});
});

afterAll(async () => {
	await incoming.close();
	await receiver.close();
});

afterEach(async () => {
	for (const trigger of active.splice(0)) {
		trigger.finishExecutions();
		await trigger.close();
	}
	receiver.reset();
});

/** A profile update through the real incoming trigger (source `trigger:<its workflow>`). */
async function update(email: string, body: Record<string, unknown>) {
	const response = await fetch(`${incoming.url}?property=email&email=${encodeURIComponent(email)}`, {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify(body),
	});
	expect(response.status).toBe(200);
	return (await response.json()) as { state: string; profileId: string };
}

async function activate(parameters: INodeParameters, extra: { nodeId?: string; mode?: 'trigger' | 'manual' } = {}) {
	const trigger = await activateTriggerNode({
		nodeType: new ProfileChangeTrigger(),
		parameters: { options: { pollInterval: 50 }, ...parameters },
		workflowId: WORKFLOW_ID,
		nodeId: extra.nodeId ?? randomUUID(),
		mode: extra.mode,
	});
	active.push(trigger);
	return trigger;
}

/** Waits (real time, generously) for a condition; the test fails with `what` if it never holds. */
async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!(await condition())) {
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
		await new Promise((resolve) => setTimeout(resolve, 20));
	}
}

const itemsOf = (trigger: ActiveTrigger) => trigger.emits.map((e) => e.items[0][0].json as unknown as ChangeItem);
const consumerId = (nodeId: string) => `profileChangeTrigger:${WORKFLOW_ID}:${nodeId}`;

/** Waits until the trigger has read past everything committed so far (its cursor is stored). */
async function caughtUp(trigger: ActiveTrigger, nodeId: string) {
	const last = await store.lastChangeSeq();
	await waitFor(async () => {
		trigger.finishExecutions();
		return ((await store.getCursor(consumerId(nodeId))) ?? 0) >= last;
	}, `the cursor of ${nodeId} reaching ${last}`);
}

const uniqueEmail = () => `c-${randomUUID().slice(0, 8)}@example.test`;

describe('Profile Change Trigger', () => {
	test('a profile changed by the incoming trigger starts one execution per change of a selected property, shaped like the incoming trigger\'s item', async () => {
		const email = uniqueEmail();
		await update(email, { tier: 'before-activation' }); // before activation: not delivered
		const nodeId = randomUUID();
		const trigger = await activate({ triggerOn: ['propertyChange'], properties: 'email, tier' }, { nodeId });

		const created = await update(uniqueEmail(), { tier: 'gold' });
		const changed = await update(email, { tier: 'silver' });
		await update(email, { nickname: 'Bo' }); // not selected
		await caughtUp(trigger, nodeId);

		const items = itemsOf(trigger);
		expect(items.map((i) => i.profileId)).toEqual([created.profileId, changed.profileId]);
		const [first, second] = items;
		expect(first).toMatchObject({
			state: 'CREATED',
			domainGroup: 'DEFAULT',
			legislation: 'NONE',
			changes: { tier: { mode: 'set', before: [], after: ['gold'] } },
			timelineEvents: [],
			profile: { id: created.profileId, properties: { tier: ['gold'] } },
			change: { source: 'trigger:wf-under-test', segmentsEntered: [], segmentsLeft: [] },
		});
		expect(second).toMatchObject({ state: 'MODIFIED', changes: { tier: { before: ['before-activation'], after: ['silver'] } } });
		expect(second.change.seq).toBeGreaterThan(first.change.seq);
		expect(Date.parse(second.change.committedAt)).not.toBeNaN();
		// One execution per change, each with a deduplication key n8n stores with a unique index.
		expect(trigger.emits.map((e) => e.items[0].length)).toEqual([1, 1]);
		expect(trigger.emits.map((e) => e.deduplicationKey)).toEqual(items.map((i) => `${consumerId(nodeId)}:${i.change.seq}`));
		expect(trigger.errors).toEqual([]);
	});

	test('changes made while the workflow was inactive are delivered after activation, and nothing twice', async () => {
		const nodeId = randomUUID();
		const email = uniqueEmail();
		const first = await activate({ triggerOn: ['propertyChange'], properties: 'tier' }, { nodeId });
		await update(email, { tier: 'one' });
		await caughtUp(first, nodeId);
		await first.close();
		active.splice(active.indexOf(first), 1);

		await update(email, { tier: 'two' }); // through the trigger while inactive
		const profileId = itemsOf(first)[0].profileId;
		await store.applyToProfile(profileId, [{ property: 'tier', mode: 'set', values: ['three'] }], [], { source: 'profiles' });

		const second = await activate({ triggerOn: ['propertyChange'], properties: 'tier' }, { nodeId });
		await update(email, { tier: 'four' });
		await caughtUp(second, nodeId);
		const tiers = [...itemsOf(first), ...itemsOf(second)].map((i) => i.changes.tier.after[0]);
		expect(tiers).toEqual(['one', 'two', 'three', 'four']);
		expect(itemsOf(second)[1].change.source).toBe('profiles');
	});

	test('events, segments entered and domain groups filter; the profile is read when the item is made', async () => {
		const nodeId = randomUUID();
		const trigger = await activate(
			{ triggerOn: ['event', 'segmentEntered'], eventTypes: 'order', segmentsEntered: 'vip', domainGroups: 'DEFAULT', options: { pollInterval: 50, includeTimeline: true } },
			{ nodeId },
		);
		const email = uniqueEmail();
		const tier = `vip-${email}`; // only this test's profile enters the segment
		await update(email, { tier, orderId: 'o-1' });
		await update(email, { nickname: 'no order' });
		const other = await store.applyByIdentifier({
			identifier: { property: 'email', value: uniqueEmail() },
			create: true,
			domainGroup: 'EU',
			events: [{ eventType: 'order', data: {} }],
		});
		await store.defineSegment({ name: 'vip', conditions: { conditions: [{ property: 'tier', operator: 'equals', value: tier }] } });
		await caughtUp(trigger, nodeId);
		await store.deleteSegment('vip');

		const items = itemsOf(trigger);
		expect(items.map((i) => i.change.source)).toEqual(['trigger:wf-under-test', 'segment:vip']);
		expect(items.some((i) => i.profileId === other.profile!.id)).toBe(false);
		expect(items[0].timelineEvents).toMatchObject([{ id: 'o-1', eventType: 'order', data: { orderId: 'o-1' } }]);
		expect(items[0].profile.timeline?.map((e) => e.id)).toEqual(['o-1']);
		expect(items[1].change.segmentsEntered).toEqual(['vip']);
	});

	test('Profile Change Trigger -> Profile Webhook is the outgoing goal: a request per selected change, none otherwise', async () => {
		const nodeId = randomUUID();
		const trigger = await activate({ triggerOn: ['propertyChange', 'event'], properties: 'tier' }, { nodeId });
		const email = uniqueEmail();
		await update(email, { tier: 'gold' });
		await update(email, { nickname: 'Ada' });
		await update(email, { orderId: 'o-9' });
		await caughtUp(trigger, nodeId);
		expect(trigger.emits).toHaveLength(2);

		const goal = async (parameters: INodeParameters, items: INodeExecutionData[]) => {
			const { outputs } = await runExecuteNode({
				nodeType: new ProfileWebhook(),
				parameters: { method: 'POST', url: `${receiver.url}/goal/{{profileId}}`, body: '{ "tier": "{{tier.0}}" }', ...parameters },
				items,
				mode: 'trigger',
			});
			return { sent: outputs[0], skipped: outputs[1] };
		};
		const byProperty = await goal({ triggerOn: 'propertyChange', triggerProperties: 'tier' }, trigger.emits.map((e) => e.items[0][0]));
		expect(byProperty.sent).toHaveLength(1);
		expect(byProperty.skipped.map((i) => (i.json.skipped as { code: string }).code)).toEqual(['NO_CHANGE']);
		expect(receiver.requests).toHaveLength(1);
		expect(JSON.parse(receiver.requests[0].body)).toEqual({ tier: 'gold' });

		const byEvent = await goal({ triggerOn: 'event', triggerEvents: 'order' }, trigger.emits.map((e) => e.items[0][0]));
		expect(byEvent.sent.map((i) => i.json.profileId)).toEqual([itemsOf(trigger)[1].profileId]);
		expect(byEvent.skipped.map((i) => (i.json.skipped as { code: string }).code)).toEqual(['NO_EVENT']);
	});

	test('a manual run shows the latest matching change at once and moves no cursor', async () => {
		const email = uniqueEmail();
		await update(email, { tier: `manual-${email}` });
		await update(email, { nickname: 'later, not selected' });
		const nodeId = randomUUID();
		const trigger = await activate({ triggerOn: ['propertyChange'], properties: 'tier' }, { nodeId, mode: 'manual' });
		await trigger.response.manualTriggerFunction!();
		expect(itemsOf(trigger).map((i) => i.changes.tier.after[0])).toEqual([`manual-${email}`]);
		expect(trigger.emits[0].deduplicationKey).toBeUndefined();
		expect(await store.getCursor(consumerId(nodeId))).toBeUndefined();
	});

	test('a manual run with no matching change waits for the next one', async () => {
		const nodeId = randomUUID();
		const eventType = `never-${randomUUID().slice(0, 6)}`;
		const trigger = await activate({ triggerOn: ['event'], eventTypes: eventType }, { nodeId, mode: 'manual' });
		await trigger.response.manualTriggerFunction!();
		expect(trigger.emits).toHaveLength(0);
		await store.applyByIdentifier({
			identifier: { property: 'email', value: uniqueEmail() },
			create: true,
			events: [{ eventType, data: { n: 1 } }],
		});
		await waitFor(() => trigger.emits.length === 1, 'the manual run to emit the next change');
		expect(itemsOf(trigger)[0].timelineEvents[0].eventType).toBe(eventType);
	});

	test('a configuration without a kind of change is refused at activation with what to select', async () => {
		const failure = activate({ triggerOn: [] });
		await expect(failure).rejects.toThrow(NodeOperationError);
		await expect(failure).rejects.toThrow(/select at least one kind of change/);
	});

	test('in queue mode the embedded store is refused at activation with what to configure', async () => {
		const previous = process.env.EXECUTIONS_MODE;
		process.env.EXECUTIONS_MODE = 'queue';
		try {
			await expect(activate({ triggerOn: ['propertyChange'] })).rejects.toThrow(/queue mode.*"Profile Store API" credential with Store "PostgreSQL"/);
		} finally {
			if (previous === undefined) delete process.env.EXECUTIONS_MODE;
			else process.env.EXECUTIONS_MODE = previous;
		}
	});
});
