import {
	NodeConnectionTypes,
	NodeOperationError,
	type IDataObject,
	type INodeType,
	type INodeTypeDescription,
	type IRun,
	type ITriggerFunctions,
	type ITriggerResponse,
} from 'n8n-workflow';

import {
	ChangeConsumer,
	latestMatch,
	memoryCursors,
	type Deliver,
} from '../../lib/changes/changeConsumer';
import {
	compileChangeFilter,
	splitList,
	type ChangeFilter,
	type ChangeFilterSettings,
	type ChangeKind,
} from '../../lib/changes/changeFilter';
import { changeItem } from '../../lib/changes/changeItem';
import type { ProfileEngine } from '../../lib/profiles/engine';
import type { ChangeFeedEntry } from '../../lib/store/ProfileStore';
import { getProfileEngine } from '../../lib/store/registry';
import { configurationFailure } from '../shared/configurationError';
import { storeSelection } from '../shared/profileStore';
import { changeTriggerProperties } from './description';

/** The store this node reads: the one place that chooses it (the optional store credential). */
async function profileStore(context: ITriggerFunctions): Promise<ProfileEngine> {
	return getProfileEngine(await storeSelection(context));
}

function readFilterSettings(context: ITriggerFunctions): ChangeFilterSettings {
	const triggerOn = context.getNodeParameter('triggerOn', ['propertyChange']) as ChangeKind[];
	const options = context.getNodeParameter('options', {}) as IDataObject;
	const has = (kind: ChangeKind) => triggerOn.includes(kind);
	return {
		triggerOn,
		properties: has('propertyChange') ? splitList(context.getNodeParameter('properties', '')) : [],
		eventTypes: has('event') ? splitList(context.getNodeParameter('eventTypes', '')) : [],
		segmentsEntered: has('segmentEntered') ? splitList(context.getNodeParameter('segmentsEntered', '')) : [],
		segmentsLeft: has('segmentLeft') ? splitList(context.getNodeParameter('segmentsLeft', '')) : [],
		domainGroups: splitList(context.getNodeParameter('domainGroups', '')),
		ignoreSources: splitList(options.ignoreSources),
	};
}

function storeFailure(context: ITriggerFunctions, error: unknown): NodeOperationError {
	return new NodeOperationError(
		context.getNode(),
		`The profile store cannot be read: ${(error as Error)?.message ?? String(error)}`,
	);
}

export class ProfileChangeTrigger implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Profile Change Trigger',
		name: 'profileChangeTrigger',
		icon: { light: 'file:profileChange.svg', dark: 'file:profileChange.dark.svg' },
		group: ['trigger'],
		version: 1,
		subtitle: '={{($parameter["triggerOn"] || []).join(", ")}}',
		description:
			'Starts a workflow when stored profiles change, whoever changed them: BlueConic-style outgoing goals with a Profile Webhook',
		defaults: { name: 'Profile Change Trigger' },
		inputs: [],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'profileStoreApi', required: false }],
		properties: changeTriggerProperties,
	};

	async trigger(this: ITriggerFunctions): Promise<ITriggerResponse> {
		const node = this.getNode();
		let matches: ChangeFilter;
		try {
			matches = compileChangeFilter(readFilterSettings(this));
		} catch (error) {
			throw configurationFailure(node, error);
		}
		const options = this.getNodeParameter('options', {}) as IDataObject;
		const timeline = Boolean(options.includeTimeline);
		const pollIntervalMs = Math.max(50, Number(options.pollInterval ?? 250) || 250);
		let engine: ProfileEngine;
		try {
			engine = await profileStore(this);
		} catch (error) {
			throw storeFailure(this, error);
		}
		const workflowId = String(this.getWorkflow().id ?? '');
		const consumerId = `profileChangeTrigger:${workflowId}:${node.id}`;

		/** The item for an entry, with the profile as it is now; none when it was erased meanwhile. */
		const itemFor = async (entry: ChangeFeedEntry) => {
			const profile = await engine.get(entry.profileId, { timeline });
			return profile ? (changeItem(entry, profile) as unknown as IDataObject) : undefined;
		};

		if (this.getMode() === 'manual') {
			// A manual run shows the latest matching change at once, or waits for the next one. It
			// reads with a cursor of its own in memory and never moves the workflow's cursor.
			let waiting: ChangeConsumer | undefined;
			const manualTriggerFunction = async () => {
				try {
					const latest = await latestMatch(engine, matches);
					const json = latest && (await itemFor(latest));
					if (json) {
						this.emit([[{ json }]]);
						return;
					}
					const deliver: Deliver = async (entry) => {
						const next = await itemFor(entry);
						if (!next || !waiting) return undefined;
						this.emit([[{ json: next }]]);
						void waiting.stop();
						return { settled: Promise.resolve() };
					};
					waiting = new ChangeConsumer({
						feed: engine,
						cursors: memoryCursors(),
						consumerId: `${consumerId}:manual`,
						matches,
						deliver,
						pollIntervalMs,
						onError: (error) => this.logger.warn(`Profile Change Trigger: ${(error as Error)?.message}`),
					});
					await waiting.start();
				} catch (error) {
					throw storeFailure(this, error);
				}
			};
			return {
				manualTriggerFunction,
				closeFunction: async () => {
					await waiting?.stop();
				},
			};
		}

		const deliver: Deliver = async (entry) => {
			const json = await itemFor(entry);
			if (!json) return undefined;
			const done = this.helpers.createDeferredPromise<IRun>();
			// One execution per change. The key makes n8n (2.41+, which stores it with a unique index)
			// refuse a second execution for the same change, should it be read again after a crash.
			this.emit([[{ json }]], undefined, done, `${consumerId}:${entry.seq}`);
			return { settled: done.promise };
		};
		const consumer = new ChangeConsumer({
			feed: engine,
			consumerId,
			matches,
			deliver,
			pollIntervalMs,
			onError: (error) =>
				this.logger.warn(`Profile Change Trigger: reading the change feed failed, retrying: ${(error as Error)?.message}`, {
					workflowId,
					nodeId: node.id,
				}),
		});
		try {
			await consumer.start();
		} catch (error) {
			throw storeFailure(this, error);
		}
		// A write in this process wakes the consumer at once; other processes' writes are polled.
		const stopListening = engine.onChange(() => consumer.notify());
		return {
			closeFunction: async () => {
				stopListening();
				await consumer.stop();
			},
		};
	}
}
