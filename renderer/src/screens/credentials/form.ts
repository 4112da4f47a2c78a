/**
 * The restriction form's state and how it becomes the contract's input (the Credentials screen's
 * narrowing and minting forms share it).
 */

/** `<input type="datetime-local">` (local time, no zone) → RFC 3339 UTC in whole seconds; '' stays ''. */
export function localToRfc3339(value: string): string {
  if (value === '') return '';
  const d = new Date(value);
  return Number.isFinite(d.getTime()) ? d.toISOString().replace(/\.\d{3}Z$/, 'Z') : value;
}

const splitList = (s: string) => s.split(/[\s,]+/).filter((x) => x !== '');
const lines = (s: string) =>
  s
    .split('\n')
    .map((x) => x.trim())
    .filter((x) => x !== '');

/** Today in the operator's time zone, YYYY-MM-DD. */
export const today = () => {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
};

export type CredentialKind = 'macaroon' | 'rune';

export interface FormState {
  expires: string;
  ip: string;
  ipRange: string;
  methods: string;
  rate: string;
  peerId: string;
  readonly: boolean;
  custom: string;
}

export const EMPTY_FORM: FormState = {
  expires: '',
  ip: '',
  ipRange: '',
  methods: '',
  rate: '',
  peerId: '',
  readonly: false,
  custom: '',
};

/** The form's fields as the contract wants them (empty fields left out). */
export function formInput(f: FormState, kind: CredentialKind) {
  const expires = localToRfc3339(f.expires);
  const custom = lines(f.custom);
  const common = { ...(expires ? { expires } : {}), ...(custom.length ? { custom } : {}) };
  if (kind === 'macaroon')
    return {
      ...common,
      ...(f.ip.trim() ? { ip: f.ip.trim() } : {}),
      ...(f.ipRange.trim() ? { ipRange: f.ipRange.trim() } : {}),
    };
  const methods = splitList(f.methods);
  return {
    ...common,
    ...(methods.length ? { methods } : {}),
    ...(f.rate.trim() ? { rate: Number(f.rate) } : {}),
    ...(f.peerId.trim() ? { peerId: f.peerId.trim() } : {}),
    ...(f.readonly ? { readonly: true } : {}),
  };
}
