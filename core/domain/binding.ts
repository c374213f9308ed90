/**
 * Which client-ssl profile on which device carries which certificate. A certificate may be bound to many
 * devices and profiles; a profile on a device carries at most one managed certificate.
 */
export interface Binding {
  id: string;
  certificateId: string;
  deviceId: string;
  /** Full path of the client-ssl profile, e.g. `/Common/acme_www`. */
  profilePath: string;
  /** Create the profile from `parentProfile` at the first deploy when the device does not have it. */
  createProfile: boolean;
  parentProfile: string;
  /** SHA-256 fingerprint of the certificate this profile was last verified to serve; null before the first deploy. */
  deployedFingerprint: string | null;
  deployedSerial: string | null;
  /** Expiry of what the profile serves, so an auto deploy can go early when it would expire first. */
  deployedNotAfter: Date | null;
  deployedAt: Date | null;
  /**
   * "Last verified to serve": the serial a TLS handshake with a virtual server using this profile presented
   * at the end of a deploy, and when; null when no handshake has confirmed one (no virtual server uses it yet).
   */
  servedSerial: string | null;
  servedVerifiedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}
