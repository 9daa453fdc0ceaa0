import axios from 'axios';
import { fireEvent, screen, waitFor, within } from 'expo-router/testing-library';
import { renderApp } from './render';
import type { TokenResponse } from '@/api/types';
import { authClient } from '@/services/api/instance';

const url = process.env.EXPO_PUBLIC_API_URL!;
const USER = { email: 'user@example.com', password: 'demo-password' };

const otherDevice = async (name: string) =>
  (await axios.post<TokenResponse>(`${url}/auth/login`, { ...USER, device: { name } })).data;

const refreshError = (refreshToken: string) =>
  axios.post(`${url}/auth/refresh`, { refreshToken }).then(
    () => 'accepted',
    (e: unknown) => (axios.isAxiosError(e) ? e.response?.data.error : String(e)),
  );

afterEach(async () => {
  if (authClient.store.getState().status === 'signedIn') await authClient.logout();
});
afterAll(() => authClient.dispose());

test('the protected group redirects to the login; a wrong password is shown; a 403 is not a logout', async () => {
  const router = renderApp('/');
  await waitFor(() => expect(router.getPathname()).toBe('/login'));

  fireEvent.changeText(screen.getByTestId('login-email'), USER.email);
  fireEvent.changeText(screen.getByTestId('login-password'), 'not-the-password');
  fireEvent.press(screen.getByTestId('login-submit'));
  expect(await screen.findByTestId('login-error')).toHaveTextContent('Wrong e-mail or password.');
  expect(router.getPathname()).toBe('/login');

  fireEvent.changeText(screen.getByTestId('login-password'), USER.password);
  fireEvent.press(screen.getByTestId('login-submit'));
  expect(await screen.findByTestId('profile-text')).toHaveTextContent(/Signed in as .+ \(user\)/);
  expect(router.getPathname()).toBe('/');
  expect(await screen.findByTestId('session-text')).toHaveTextContent(authClient.store.getState().sessionId!, { exact: false });

  // GET /api/admin/stats needs role admin: 403, shown as not allowed.
  expect(await screen.findByTestId('admin-forbidden')).toHaveTextContent(/Not allowed/);
  expect(router.getPathname()).toBe('/');
  expect(authClient.store.getState().status).toBe('signedIn');

  fireEvent.press(screen.getByTestId('logout-button'));
  await waitFor(() => expect(router.getPathname()).toBe('/login'));
  expect(screen.queryByTestId('session-ended')).toBeNull();
});

test('sessions: this device marked, revoke one, sign out the others', async () => {
  await authClient.login(USER.email, USER.password);
  const mine = authClient.store.getState().sessionId!;
  const phone = await otherDevice('phone');
  const tablet = await otherDevice('tablet');
  const laptop = await otherDevice('laptop');

  const router = renderApp('/');
  fireEvent.press(await screen.findByTestId('sessions-link'));
  await waitFor(() => expect(router.getPathname()).toBe('/sessions'));

  const myCard = await screen.findByTestId(`session-${mine}`);
  expect(within(myCard).getByTestId('this-device')).toHaveTextContent('This device');
  expect(screen.getAllByTestId('this-device')).toHaveLength(1);
  expect(within(screen.getByTestId(`session-${phone.sessionId}`)).getByText('phone')).toBeTruthy();
  screen.getByTestId(`session-${tablet.sessionId}`);

  fireEvent.press(screen.getByTestId(`revoke-${phone.sessionId}`));
  await waitFor(() => expect(screen.queryByTestId(`session-${phone.sessionId}`)).toBeNull());
  expect(await refreshError(phone.refreshToken!)).toBe('invalid_grant');
  screen.getByTestId(`session-${tablet.sessionId}`);

  fireEvent.press(screen.getByTestId('sign-out-others'));
  await waitFor(() => expect(screen.queryByTestId(`session-${tablet.sessionId}`)).toBeNull());
  expect(screen.queryByTestId(`session-${laptop.sessionId}`)).toBeNull();
  expect(await refreshError(laptop.refreshToken!)).toBe('invalid_grant');
  screen.getByTestId(`session-${mine}`);
  expect(authClient.store.getState().status).toBe('signedIn');

  // Ending this device's own session is a logout, not "your session ended".
  fireEvent.press(screen.getByTestId(`revoke-${mine}`));
  await waitFor(() => expect(router.getPathname()).toBe('/login'));
  expect(screen.queryByTestId('session-ended')).toBeNull();
  const witness = await otherDevice('witness');
  const { data } = await axios.get<{ sessions: { id: string }[] }>(`${url}/auth/sessions`, {
    headers: { Authorization: `Bearer ${witness.accessToken}` },
  });
  expect(data.sessions.map((s) => s.id)).toEqual([witness.sessionId]);
});

test('a session revoked from another device lands on the login with the reason', async () => {
  await authClient.login(USER.email, USER.password);
  const other = await otherDevice('admin console');
  await axios.delete(`${url}/auth/sessions`, { headers: { Authorization: `Bearer ${other.accessToken}` } });

  const router = renderApp('/sessions');
  expect(await screen.findByTestId('session-ended')).toBeTruthy();
  expect(router.getPathname()).toBe('/login');
  expect(authClient.store.getState().status).toBe('signedOut');
});
