/**
 * The outgoing request of the Profile Webhook, built from templates (DESIGN.md 2.3): compiled once
 * per node configuration, rendered once per profile. Authentication is not added here; the node
 * lets n8n's credential handling do that.
 */
import { collectIssues as collect, ConfigurationError } from '../errors';
import type { ValidationIssue } from '../errors';
import { compileTemplate } from '../templates/compileTemplate';
import type { CompiledTemplate, TemplateContext } from '../templates/compileTemplate';
import type { TemplateView } from '../templates/profileView';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
export const HTTP_METHODS: readonly HttpMethod[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

export type BodyFormat = 'json' | 'form' | 'text';
export const BODY_FORMATS: readonly BodyFormat[] = ['json', 'form', 'text'];

/** The content type sent when the headers do not set one. */
export const DEFAULT_CONTENT_TYPES: Record<BodyFormat, string> = {
	json: 'application/json',
	form: 'application/x-www-form-urlencoded',
	text: 'text/plain; charset=utf-8',
};

const BODY_CONTEXTS: Record<BodyFormat, TemplateContext> = { json: 'json', form: 'form', text: 'text' };
const BODY_LABELS: Record<BodyFormat, string> = { json: 'JSON body', form: 'form body', text: 'text body' };

/** RFC 9110 token characters. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export interface RequestHeaderConfig {
	name: string;
	/** A template rendered in the `header` context. */
	value: string;
}

export interface RequestConfig {
	method: string;
	/** A template rendered in the `url` context. */
	url: string;
	headers?: readonly RequestHeaderConfig[];
	/** Default `json`. */
	bodyFormat?: BodyFormat;
	/** A template in the body format's context. Empty or blank: no body. */
	body?: string;
}

export interface OutgoingRequest {
	method: HttpMethod;
	url: string;
	/** Names as configured (their case kept), plus `Content-Type` when a body goes out without one. */
	headers: Record<string, string>;
	body?: string;
}

export interface CompiledRequest {
	readonly method: HttpMethod;
	readonly bodyFormat: BodyFormat;
	/**
	 * The request for one profile. Throws `TemplateRenderError` when a value cannot be placed
	 * safely (a header with a line break, a body that is not JSON): nothing must be sent then.
	 */
	render(view: TemplateView): OutgoingRequest;
}

/** Checks the whole configuration and lists every problem in one `ConfigurationError`. */
export function compileRequest(config: RequestConfig): CompiledRequest {
	const issues: ValidationIssue[] = [];

	const method = String(config.method ?? '').trim().toUpperCase() as HttpMethod;
	if (!HTTP_METHODS.includes(method)) {
		issues.push({ target: 'method', message: `must be one of ${HTTP_METHODS.join(', ')}` });
	}
	const bodyFormat = config.bodyFormat ?? 'json';
	if (!BODY_FORMATS.includes(bodyFormat)) {
		issues.push({ target: 'bodyFormat', message: `must be one of ${BODY_FORMATS.join(', ')}` });
	}

	const url = collect(issues, () => compileTemplate(String(config.url ?? '').trim(), 'url'));

	const headers: Array<{ name: string; value: CompiledTemplate }> = [];
	const seen = new Set<string>();
	(config.headers ?? []).forEach((header, index) => {
		const name = String(header.name ?? '').trim();
		if (!HEADER_NAME.test(name)) {
			issues.push({
				target: `headers[${index}].name`,
				message: name ? `"${name}" is not a valid header name` : 'a header needs a name',
			});
			return;
		}
		if (seen.has(name.toLowerCase())) {
			issues.push({ target: `headers[${index}].name`, message: `the header "${name}" is set twice` });
			return;
		}
		seen.add(name.toLowerCase());
		const value = collect(issues, () => compileTemplate(String(header.value ?? ''), 'header', { label: `header "${name}"` }));
		if (value) headers.push({ name, value });
	});

	const bodySource = String(config.body ?? '');
	let body: CompiledTemplate | undefined;
	if (bodySource.trim() !== '' && BODY_FORMATS.includes(bodyFormat)) {
		if (method === 'GET') {
			issues.push({ target: 'body', message: 'a GET request carries no body; clear the body or use another method' });
		} else {
			body = collect(issues, () => compileTemplate(bodySource, BODY_CONTEXTS[bodyFormat], { label: BODY_LABELS[bodyFormat] }));
		}
	}

	if (issues.length) throw new ConfigurationError(issues);
	const compiledUrl = url as CompiledTemplate;
	const contentType = seen.has('content-type') ? undefined : DEFAULT_CONTENT_TYPES[bodyFormat];

	return {
		method,
		bodyFormat,
		render(view: TemplateView): OutgoingRequest {
			// No prototype: a header named `__proto__` is a header like any other.
			const request: OutgoingRequest = { method, url: compiledUrl.render(view), headers: Object.create(null) as Record<string, string> };
			for (const header of headers) request.headers[header.name] = header.value.render(view);
			if (body) {
				request.body = body.render(view);
				if (contentType) request.headers['Content-Type'] = contentType;
			}
			return request;
		},
	};
}
