/**
 * IP allowlist: single addresses and CIDR ranges, IPv4 and IPv6, parsed, validated and matched by
 * `ip-cidr` (which uses `ip-address` underneath).
 *
 * Families stay apart: IPv4 entries match IPv4 clients, IPv6 entries IPv6 clients. An IPv4 client
 * that Node reports in IPv4-mapped form (`::ffff:10.1.2.3`, also `::ffff:a01:203`) is an IPv4
 * client. Entries must be clean, so nothing is guessed at activation: a CIDR with host bits set
 * (`10.0.0.1/8`) and a CIDR written in IPv4-mapped form (`::ffff:10.0.0.0/8`, which ip-cidr would
 * read as the single address 10.0.0.0, and older code as `::/8`, every IPv4 client) are refused
 * with a message naming the entry and saying what to write instead.
 */
import IPCIDR from 'ip-cidr';

import { ConfigurationError, ProfileWebhookError, type ValidationIssue } from '../errors';

type Address = IPCIDR.Address;

export interface CompiledAllowlist {
	/** The entries as written (after splitting), for display. */
	readonly entries: readonly string[];
	/** True when the list is empty: every caller is allowed, even one without a known address. */
	readonly allowAll: boolean;
	/** The parsed ranges, one per entry (a single address is a /32 or /128). */
	readonly ranges: readonly IPCIDR[];
}

/** ::ffff:0:0/96, the IPv4-mapped IPv6 addresses (RFC 4291 section 2.5.5.2). */
const MAPPED = new IPCIDR('::ffff:0:0/96');

/**
 * Compiles an allowlist once per node configuration. Accepts an array of entries or one string
 * with entries separated by commas, spaces or new lines. An empty list allows every caller.
 * Throws `ConfigurationError` naming every entry that is not a clean address or CIDR.
 */
export function compileAllowlist(
	entries: readonly string[] | string | undefined,
	target = 'ipAllowlist',
): CompiledAllowlist {
	const list = (typeof entries === 'string' ? [entries] : (entries ?? []))
		.flatMap((entry) => String(entry).split(/[\s,]+/))
		.filter((entry) => entry !== '');

	const issues: ValidationIssue[] = [];
	const ranges: IPCIDR[] = [];
	for (const entry of list) {
		const range = parseEntry(entry);
		if (typeof range === 'string') issues.push({ target, message: `"${entry}" ${range}` });
		else ranges.push(range);
	}
	if (issues.length) throw new ConfigurationError(issues);
	return { entries: list, allowAll: list.length === 0, ranges };
}

/**
 * Whether a client address may call. With an empty list, always true. Otherwise an undefined or
 * unparseable address is not allowed. A zone id on the client (`fe80::1%eth0`) is ignored.
 */
export function isAllowed(compiled: CompiledAllowlist, clientIp: string | undefined): boolean {
	if (compiled.allowAll) return true;
	if (typeof clientIp !== 'string') return false;
	const address = clientAddress(clientIp.trim());
	if (!address) return false;
	// ip-address compares bit strings, so /0 of one family would contain the other; families are
	// checked first.
	return compiled.ranges.some((range) => range.address.v4 === address.v4 && range.contains(address));
}

/** Throws 403 FORBIDDEN when `isAllowed` is false. The message names the caller's own address. */
export function assertAllowed(compiled: CompiledAllowlist, clientIp: string | undefined): void {
	if (isAllowed(compiled, clientIp)) return;
	const who = clientIp ? `The address ${clientIp}` : 'A caller whose address is unknown';
	throw new ProfileWebhookError(403, 'FORBIDDEN', `${who} is not allowed to call this webhook`);
}

/** ip-address's IPv6 class: `to4()` gives the IPv4 address in the last 32 bits. */
type Ipv6Address = Address & { to4(): Address };

/**
 * A single address (no prefix), IPv4-mapped IPv6 turned into its IPv4 address.
 *
 * Hand-written piece: ip-cidr's createAddress turns *any* IPv6 address with a dotted tail into
 * that IPv4 address (`64:ff9b::10.1.2.3` and `::10.1.2.3` would both become 10.1.2.3), so the
 * dotted tail is rewritten as two hex groups first; only ::ffff:0:0/96 then counts as IPv4.
 */
function parseAddress(text: string): Address | undefined {
	if (text.includes('/')) return undefined;
	let address: Address;
	try {
		address = IPCIDR.createAddress(hexTail(text));
	} catch {
		return undefined;
	}
	if (!address.v4 && MAPPED.contains(address)) return (address as Ipv6Address).to4();
	return address;
}

/** `::ffff:10.1.2.3` -> `::ffff:a01:203`; throws for a tail that is not an IPv4 address. */
function hexTail(text: string): string {
	const lastColon = text.lastIndexOf(':');
	if (lastColon < 0 || !text.slice(lastColon + 1).includes('.')) return text;
	const tail = IPCIDR.createAddress(text.slice(lastColon + 1));
	if (!tail.v4) throw new Error('not an IPv4 tail');
	return `${text.slice(0, lastColon + 1)}${(tail as Address & { toGroup6(): string }).toGroup6()}`;
}

function clientAddress(text: string): Address | undefined {
	const percent = text.indexOf('%');
	return parseAddress(percent < 0 ? text : text.slice(0, percent));
}

function parseEntry(entry: string): IPCIDR | string {
	const slash = entry.indexOf('/');
	const addressText = slash < 0 ? entry : entry.slice(0, slash);
	const isV6 = addressText.includes(':');
	if (addressText.includes('%')) return 'has a zone id (%...), which an allowlist cannot use';
	const address = parseAddress(addressText);
	if (!address) return `is not a valid ${isV6 ? 'IPv6' : 'IPv4'} address or range`;
	// A single mapped address is a clean IPv4 address; it is kept as such.
	if (slash < 0) return new IPCIDR(`${address.correctForm()}/${address.v4 ? 32 : 128}`);

	const prefixText = entry.slice(slash + 1);
	if (isV6 && address.v4) {
		const prefix = Number(prefixText);
		const suggestion = Number.isInteger(prefix) && prefix >= 96 && prefix <= 128 ? `${prefix - 96}` : 'NN';
		return `is an IPv4 range written as IPv4-mapped IPv6; write it in IPv4 form (${address.correctForm()}/${suggestion})`;
	}
	const max = address.v4 ? 32 : 128;
	// ip-cidr accepts "/08"; a leading zero or a sign is not a clean prefix.
	if (!/^(0|[1-9][0-9]*)$/.test(prefixText) || Number(prefixText) > max) {
		return `has an invalid prefix length "/${prefixText}" (expected 0 to ${max})`;
	}
	const range = new IPCIDR(`${address.correctForm()}/${prefixText}`);
	if (range.addressStart.bigInteger().toString() !== address.bigInteger().toString()) {
		return `has host bits set: the network of this /${prefixText} is ${range.addressStart.correctForm()}/${prefixText}`;
	}
	return range;
}
