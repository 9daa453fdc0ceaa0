// The tests' stand-in for expo-local-authentication (biometrics exist only on
// a device). Tests set what the "device" has and what the user does.
export const device = {
  hasHardware: true,
  enrolled: true,
  /** What the next checks answer. */
  succeed: true,
  prompts: [] as string[],
};

export async function hasHardwareAsync(): Promise<boolean> {
  return device.hasHardware;
}

export async function isEnrolledAsync(): Promise<boolean> {
  return device.enrolled;
}

export async function authenticateAsync(options?: { promptMessage?: string }): Promise<{ success: boolean; error?: string }> {
  device.prompts.push(options?.promptMessage ?? '');
  return device.succeed ? { success: true } : { success: false, error: 'user_cancel' };
}
