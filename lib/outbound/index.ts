/** The engine of the Profile Webhook (outgoing side, DESIGN.md 2.3). No n8n imports. */
export {
	checkConsent,
	checkEvent,
	checkPropertyChange,
	checkSegments,
	compileFilters,
	snapshotFor,
	TRIGGER_ON,
} from './filters';
export type { Decision, FilterConfig, FilterInput, FilterProfile, ProfileFilter, SkipCode, TriggerOn } from './filters';
export { compileRequest, BODY_FORMATS, DEFAULT_CONTENT_TYPES, HTTP_METHODS } from './request';
export type { BodyFormat, CompiledRequest, HttpMethod, OutgoingRequest, RequestConfig, RequestHeaderConfig } from './request';
export { backoffDelay, isRetryableStatus, parseRetryAfter, sendWithRetries, sleep } from './retry';
export type { Jitter, Outcome, RetryInfo, RetryOptions, RetryResult } from './retry';
export { mapWithConcurrency } from './concurrency';
export { compileResponseMappings, matchValues } from './responseMapping';
export type { CompiledResponseMapping, CompiledResponseMappings, ResponseMapping } from './responseMapping';
export { compileWebhookConfig, getWebhookConfig } from './webhookConfig';
export type { CompiledWebhookConfig, WebhookSettings } from './webhookConfig';
export { profileFromItem, propertiesFromFields, snapshotKey } from './itemProfile';
export type { ItemProfile, ItemProfileResult } from './itemProfile';
export { deliverItems, parseBody, showRequest, writeSentSnapshots } from './delivery';
export type {
	DeliveryOptions,
	DeliveryResult,
	DeliveryStore,
	HttpAnswer,
	ItemSettings,
	SendOutcome,
	SendRequest,
	ShownRequest,
	SnapshotEntry,
} from './delivery';
export { createPooledClient, RequestFailedError } from './httpClient';
export type { EgressRules, PooledAnswer, PooledClient, PooledClientOptions, PooledRequest } from './httpClient';
