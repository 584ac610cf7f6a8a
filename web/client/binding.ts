// DTLS fingerprint binding, the browser's half of proto/binding.go: the
// technician's offer carries a console-signed grant for its certificate's
// fingerprint; the agent's answer must carry an Ed25519 signature by the
// device key over "reach-dtls-v1\n" + sid + "\n" + fingerprint.

/** Message shown when the answer's fingerprint is not the device's (proto.VerifyDTLS). */
export const INTERCEPTED =
  "the device's DTLS fingerprint is not signed by its key: the session may be intercepted";

/**
 * sdpFingerprint returns the first a=fingerprint attribute of sdp normalized
 * like proto.Fingerprint: "<hash lower-case> <HEX:HEX upper-case>", or null.
 */
export function sdpFingerprint(sdp: string): string | null {
  for (const raw of sdp.split("\n")) {
    const line = raw.trim();
    if (!line.startsWith("a=fingerprint:")) continue;
    const v = line.slice("a=fingerprint:".length).trim();
    const sp = v.indexOf(" ");
    if (sp <= 0) return null;
    const hash = v.slice(0, sp);
    const value = v.slice(sp + 1).trim();
    if (value === "") return null;
    return hash.toLowerCase() + " " + value.toUpperCase();
  }
  return null;
}

/** certificateFingerprint returns the SHA-256 fingerprint of cert in the same form. */
export function certificateFingerprint(cert: RTCCertificate): string {
  const fp = cert.getFingerprints().find((f) => f.algorithm?.toLowerCase() === "sha-256");
  if (!fp?.value) throw new Error("the browser's DTLS certificate has no SHA-256 fingerprint");
  return "sha-256 " + fp.value.toUpperCase();
}

/** dtlsBinding is the message the agent signs (proto.DTLSBinding). */
export function dtlsBinding(sid: string, fingerprint: string): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode("reach-dtls-v1\n" + sid + "\n" + fingerprint);
}

/** decodeBase64 decodes standard base64 with or without padding (Go's RawStdEncoding). */
export function decodeBase64(s: string): Uint8Array<ArrayBuffer> {
  const padded = s + "=".repeat((4 - (s.length % 4)) % 4);
  const bin = atob(padded);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/**
 * verifyAnswer checks the agent's answer: its fingerprint must be signed for
 * sid by the 32-byte Ed25519 device key. It resolves to false on any
 * mismatch, including a missing fingerprint or a malformed signature.
 */
export async function verifyAnswer(
  deviceKey: Uint8Array<ArrayBuffer>,
  sid: string,
  answerSDP: string,
  signature: string,
): Promise<boolean> {
  const fp = sdpFingerprint(answerSDP);
  if (!fp || !signature) return false;
  let sig: Uint8Array<ArrayBuffer>;
  try {
    sig = decodeBase64(signature);
  } catch {
    return false;
  }
  if (sig.length !== 64 || deviceKey.length !== 32) return false;
  const key = await crypto.subtle.importKey("raw", deviceKey, { name: "Ed25519" }, false, ["verify"]);
  return crypto.subtle.verify({ name: "Ed25519" }, key, sig, dtlsBinding(sid, fp));
}
