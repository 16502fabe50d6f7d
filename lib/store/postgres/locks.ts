/**
 * Advisory lock keys. PostgreSQL's advisory locks take one bigint; ours are the first 8 bytes of a
 * SHA-256 over a namespace and the parts, so keys of different kinds never meet on purpose (a
 * collision only makes two writers wait for each other, never a wrong answer).
 */
import { createHash } from 'node:crypto';

/** The key as a decimal string (pg sends it as bigint without loss). */
export function lockKey(kind: string, ...parts: string[]): string {
	const digest = createHash('sha256').update(JSON.stringify(['n8n-nodes-profile-webhooks', kind, ...parts])).digest();
	return digest.readBigInt64BE(0).toString();
}
