import * as LocalAuthentication from 'expo-local-authentication';

/** The outcome of a biometric check before the refresh token is read. */
export type UnlockResult =
  /** The user passed the check. */
  | 'unlocked'
  /** The device has no biometric hardware or nothing enrolled: the check
   * cannot be made, so the token is read as if the check were off. */
  | 'unavailable'
  /** The user cancelled or failed the check: the token stays in the
   * keystore and the session stays (locked) on the device. */
  | 'denied';

/** Checks the user's face or fingerprint (or the device passcode, which the
 * system offers as its own fallback). */
export interface BiometricGate {
  /** Whether a check can be made: hardware present and enrolled. */
  available(): Promise<boolean>;
  unlock(prompt: string): Promise<UnlockResult>;
}

export const biometricGate: BiometricGate = {
  async available() {
    const [hardware, enrolled] = await Promise.all([
      LocalAuthentication.hasHardwareAsync(),
      LocalAuthentication.isEnrolledAsync(),
    ]);
    return hardware && enrolled;
  },
  async unlock(prompt) {
    if (!(await this.available())) {
      return 'unavailable';
    }
    const result = await LocalAuthentication.authenticateAsync({
      promptMessage: prompt,
      disableDeviceFallback: false,
    });
    return result.success ? 'unlocked' : 'denied';
  },
};
