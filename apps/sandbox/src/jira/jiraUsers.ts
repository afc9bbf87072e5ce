// The Jira site's users. Jira Cloud shows an email only where the user's profile visibility allows it: the field is
// then left out of every user object, though a query on the full address still finds the user.

export interface SiteUser {
  accountId: string;
  displayName: string;
  email: string;
  emailVisible: boolean;
  timeZone: string;
  locale: string;
  /** The user's API token: basic auth is base64(email:token). */
  apiToken: string;
}

/** The account behind the sandbox's basic-auth credentials. */
export const SANDBOX_USER: SiteUser = {
  accountId: "5b10ac8d82e05b22cc7d4ef5",
  displayName: "Sandbox Automation",
  email: "sandbox@example.com",
  emailVisible: true,
  timeZone: "Europe/Paris",
  locale: "en_US",
  apiToken: "sandbox-jira",
};

export const SITE_USERS: readonly SiteUser[] = [
  SANDBOX_USER,
  // The DPO keeps Atlassian's default profile visibility: email hidden.
  {
    accountId: "712020:5c3e1d7a-9b2f-4e8a-a1c6-3d9f0b7e2a41",
    displayName: "Claire Dubois",
    email: "claire.dubois@example.com",
    emailVisible: false,
    timeZone: "Europe/Paris",
    locale: "fr_FR",
    apiToken: "sandbox-jira-claire",
  },
  {
    accountId: "712020:8a4b6c2d-1e3f-4a5b-9c7d-0e1f2a3b4c5d",
    displayName: "Paul Martin",
    email: "paul.martin@example.com",
    emailVisible: true,
    timeZone: "Europe/Paris",
    locale: "fr_FR",
    apiToken: "sandbox-jira-paul",
  },
];

/**
 * The user behind an `Authorization: Basic base64(email:apiToken)` header, or undefined. Besides the automation
 * account, the people of the site have tokens too, so a test can act as a person (a human moving an issue to Done)
 * and the webhook's `user` is then that person, as in Jira.
 */
export function userByBasicAuth(header: string | undefined): SiteUser | undefined {
  const match = /^Basic\s+(\S+)$/.exec(header ?? "");
  if (!match?.[1]) return undefined;
  let decoded: string;
  try {
    decoded = atob(match[1]);
  } catch {
    return undefined;
  }
  return SITE_USERS.find((u) => decoded === `${u.email}:${u.apiToken}`);
}

export function userById(accountId: string): SiteUser | undefined {
  return SITE_USERS.find((u) => u.accountId === accountId);
}

/** Users whose display name (or one of its words) starts with `query`, whose visible email starts with it, or whose
 * email is exactly it (case-insensitive). */
export function usersMatching(query: string): SiteUser[] {
  const q = query.trim().toLowerCase();
  return SITE_USERS.filter((u) => {
    const name = u.displayName.toLowerCase();
    return (
      (u.emailVisible ? u.email.startsWith(q) : u.email === q) ||
      [name, ...name.split(" ")].some((part) => part.startsWith(q))
    );
  });
}

/** A user as the REST API shows it; `base` is the site's `/jira` URL. */
export function userShape(base: string, user: SiteUser) {
  return {
    self: `${base}/rest/api/3/user?accountId=${user.accountId}`,
    accountId: user.accountId,
    accountType: "atlassian",
    ...(user.emailVisible ? { emailAddress: user.email } : {}),
    displayName: user.displayName,
    active: true,
    timeZone: user.timeZone,
    locale: user.locale,
  };
}
