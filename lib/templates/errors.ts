import { ConfigurationError, ValidationError } from '../errors';

/**
 * A template that can never work: not valid Mustache, a variable in the URL's scheme, host or
 * port, a partial, an unknown tag. Raised once, when the configuration is compiled.
 */
export class TemplateConfigurationError extends ConfigurationError {
	constructor(
		/** What the template is, as the user knows it: `URL`, `JSON body`, `header "X-Id"`. */
		readonly template: string,
		message: string,
	) {
		super([{ target: template, message }]);
		// The issue already names the template; keep the sentence itself as the message.
		this.message = message;
		this.name = 'TemplateConfigurationError';
	}
}

/**
 * One profile's values cannot be rendered safely into this template (a header value with a line
 * break, a JSON body that does not parse). Raised before anything is sent; other profiles are fine.
 * Messages never quote the profile's values.
 */
export class TemplateRenderError extends ValidationError {
	constructor(
		readonly template: string,
		message: string,
	) {
		super([{ target: template, message }]);
		this.message = message;
		this.name = 'TemplateRenderError';
	}
}
