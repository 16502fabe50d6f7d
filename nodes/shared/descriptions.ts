import type { INodeProperties, INodePropertyOptions } from 'n8n-workflow';

/** The four import modes, as both nodes offer them for mappings. */
export const importModeOptions: INodePropertyOptions[] = [
	{
		name: 'Add to List',
		value: 'add',
		description: 'Append values that are not there yet, keeping their order',
	},
	{ name: 'Set', value: 'set', description: 'Replace the stored values' },
	{
		name: 'Set if Empty',
		value: 'setIfEmpty',
		description: 'Only when the property has no value yet',
	},
	{ name: 'Sum', value: 'sum', description: 'Add a number to the stored number' },
];

/** The `mode` field of a mapping (trigger mappings and response mappings alike). */
export const importModeField: INodeProperties = {
	displayName: 'Mode',
	name: 'mode',
	type: 'options',
	options: importModeOptions,
	default: 'set',
	description: 'How the values are imported',
};
