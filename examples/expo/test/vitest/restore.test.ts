import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { getProfile } from '@/api/endpoints';
import { storageKeys } from '@/auth/client';
import { biometricGate } from '@/services/storage/biometric';
import { device } from '../fakes/expo-local-authentication';
import { useServer } from './server';
import { USER, disposeClients, makeClient, memoryStorage, rawLogin, scriptedGate } from '../support/clients';
import axios from 'axios';

const server = useServer();
afterEach(() => disposeClients());

describe('restore at start', () => {
  test('nothing stored: signed out, no request', async () => {
    const t = makeClient(server.url);
    await t.client.restore();
    expect(t.client.store.getState()).toMatchObject({ status: 'signedOut', sessionEnded: false });
    expect(t.refreshes()).toBe(0);
  });

  test('a stored session comes back through one refresh; the access token was never stored', async () => {
    const first = makeClient(server.url);
    await first.client.login(USER.email, USER.password);
    const relaunch = makeClient(server.url, { storage: first.storage });
    await relaunch.client.restore();
    expect(relaunch.client.store.getState()).toMatchObject({ status: 'signedIn', sessionId: first.client.store.getState().sessionId });
    expect(relaunch.refreshes()).toBe(1);
    expect((await getProfile(relaunch.client.api)).roles).toEqual(['user']);
  });

  test('a stored session that was revoked meanwhile: signed out, keystore cleared', async () => {
    const first = makeClient(server.url);
    await first.client.login(USER.email, USER.password);
    const other = await rawLogin(server.url);
    await axios.delete(`${server.url}/auth/sessions`, { headers: { Authorization: `Bearer ${other.accessToken}` } });
    const relaunch = makeClient(server.url, { storage: first.storage });
    await relaunch.client.restore();
    expect(relaunch.client.store.getState()).toMatchObject({ status: 'signedOut', sessionEnded: true });
    expect(first.storage.items.get(storageKeys.refreshToken)).toBeUndefined();
  });
});

describe('biometric unlock', () => {
  test('turned on: the refresh token is read only after the check; a failed check leaves the session locked, not lost', async () => {
    const gate = scriptedGate('unlocked');
    const first = makeClient(server.url, { biometric: gate });
    await first.client.login(USER.email, USER.password);
    expect(await first.client.setBiometric(true)).toBe(true);
    expect(first.storage.items.get(storageKeys.biometric)).toBe('1');

    gate.answer = 'denied';
    const reads: string[] = [];
    const storage = first.storage;
    const spyStorage = { ...storage, getItem: (k: string) => (reads.push(k), storage.getItem(k)) };
    const relaunch = makeClient(server.url, { biometric: gate, storage: Object.assign(spyStorage, { items: storage.items }) });
    await relaunch.client.restore();
    expect(relaunch.client.store.getState()).toMatchObject({ status: 'locked', accessToken: null });
    expect(reads).not.toContain(storageKeys.refreshToken);
    expect(relaunch.refreshes()).toBe(0);
    expect(storage.items.get(storageKeys.refreshToken)).toBeDefined();

    gate.answer = 'unlocked';
    expect(await relaunch.client.unlock()).toBe('unlocked');
    expect(relaunch.client.store.getState().status).toBe('signedIn');
    expect(reads).toContain(storageKeys.refreshToken);
    expect((await getProfile(relaunch.client.api)).roles).toEqual(['user']);
  });

  describe('the expo-local-authentication gate', () => {
    beforeEach(() => Object.assign(device, { hasHardware: true, enrolled: true, succeed: true, prompts: [] }));

    test('checks when the device can', async () => {
      expect(await biometricGate.unlock('Unlock')).toBe('unlocked');
      device.succeed = false;
      expect(await biometricGate.unlock('Unlock')).toBe('denied');
      expect(device.prompts).toEqual(['Unlock', 'Unlock']);
    });

    test('falls back when there is no hardware or nothing enrolled', async () => {
      device.hasHardware = false;
      expect(await biometricGate.unlock('Unlock')).toBe('unavailable');
      device.hasHardware = true;
      device.enrolled = false;
      expect(await biometricGate.unlock('Unlock')).toBe('unavailable');
      expect(device.prompts).toEqual([]);
    });

    test('without hardware it cannot be turned on, and a session stored with it on still restores', async () => {
      const storage = memoryStorage();
      const first = makeClient(server.url, { biometric: biometricGate, storage });
      await first.client.login(USER.email, USER.password);
      device.enrolled = false;
      expect(await first.client.setBiometric(true)).toBe(false);
      expect(storage.items.get(storageKeys.biometric)).toBeUndefined();

      // Turned on earlier, then the fingerprints were removed.
      storage.items.set(storageKeys.biometric, '1');
      const relaunch = makeClient(server.url, { biometric: biometricGate, storage });
      await relaunch.client.restore();
      expect(relaunch.client.store.getState().status).toBe('signedIn');
    });
  });
});
