/**
 * The package's public surface for receivers and integrators: verify incoming webhooks, and the types of what
 * they carry. The daemon itself is the `lipsync-sync` binary.
 */
export { verifyWebhook, WebhookVerificationError, type VerifyWebhookOptions } from './webhooks/verify.js';
export { signatureHeaders, type SignatureHeaders } from './webhooks/sign.js';
export { generateSecret } from './webhooks/secret.js';
export { EVENT_TYPES, type ChangeEvent, type ChangeEventData, type EventType, type TrackedFields } from './events/types.js';
export { lipsyncSchema, type Lipsync } from './creatify/schema.js';
