// The Jira site's users. Jira Cloud shows an email only where the user's profile visibility allows it: the field is
// then left out of every user object, though a query on the full address still finds the user.

interface SiteUser {
  accountId: string;
  displayName: string;
  email: string;
  emailVisible: boolean;
  timeZone: string;
  locale: string;
}

/** The account behind the sandbox's basic-auth credentials. */
export const SANDBOX_USER: SiteUser = {
  accountId: "5b10ac8d82e05b22cc7d4ef5",
  displayName: "Sandbox Automation",
  email: "sandbox@example.com",
  emailVisible: true,
  timeZone: "Europe/Paris",
  locale: "en_US",
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
  },
  {
    accountId: "712020:8a4b6c2d-1e3f-4a5b-9c7d-0e1f2a3b4c5d",
    displayName: "Paul Martin",
    email: "paul.martin@example.com",
    emailVisible: true,
    timeZone: "Europe/Paris",
    locale: "fr_FR",
  },
];

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
