import type { AxiosInstance } from 'axios';
import type { AdminStats, MeResponse, Profile, ReportsResponse, SessionsResponse } from './types';

// The guarded routes this app calls, each through the client that attaches
// the bearer and refreshes on 401.

export const getMe = async (api: AxiosInstance) => (await api.get<MeResponse>('/auth/me')).data;

export const getProfile = async (api: AxiosInstance) => (await api.get<Profile>('/api/profile')).data;

export const getAdminStats = async (api: AxiosInstance) => (await api.get<AdminStats>('/api/admin/stats')).data;

export const getReports = async (api: AxiosInstance) => (await api.get<ReportsResponse>('/api/reports')).data;

export const getSessions = async (api: AxiosInstance) => (await api.get<SessionsResponse>('/auth/sessions')).data.sessions;

export const deleteSession = async (api: AxiosInstance, id: string) => {
  await api.delete(`/auth/sessions/${encodeURIComponent(id)}`);
};

export const deleteOtherSessions = async (api: AxiosInstance) => {
  await api.delete('/auth/sessions');
};
