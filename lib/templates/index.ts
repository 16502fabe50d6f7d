/** Mustache templates with one escaping rule per output context (DESIGN.md 2.3). */
export {
	compileTemplate,
	renderTemplate,
	valueToJson,
	valueToText,
	TEMPLATE_CONTEXTS,
} from './compileTemplate';
export type { CompiledTemplate, CompileTemplateOptions, TemplateContext } from './compileTemplate';
export { buildProfileView } from './profileView';
export type { TemplateValue, TemplateView } from './profileView';
export { encodeFormValue, encodeUrlValue, escapeJsonString, headerValueProblem } from './escaping';
export { TemplateConfigurationError, TemplateRenderError } from './errors';
