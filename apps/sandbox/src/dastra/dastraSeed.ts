import type { DastraState } from "./dastraState";

// The "default" scenario: workspace 1 / area 1 with the same fake people the HubSpot seed uses,
// so `pnpm dev` shows a DSR that already matches a CRM contact. All names and addresses are fictitious.
export async function seedDastra(dastra: DastraState): Promise<void> {
  const jane = await dastra.createDsr({
    title: "Access request - Jane Doe",
    areaId: 1,
    locale: "en",
    purposes: ["Access"],
    personCategory: "Client",
    channel: "Form",
    givenName: "Jane",
    familyName: "Doe",
    email: "jane.doe@example.com",
    countryCode: "FR",
    message: "Please send me a copy of all personal data you hold about me.",
  });
  const john = await dastra.createDsr({
    title: "Erasure request - John Roe",
    areaId: 1,
    locale: "en",
    purposes: ["Erasure"],
    personCategory: "Prospect",
    channel: "Internal",
    givenName: "John",
    familyName: "Roe",
    email: "john.roe@example.com",
    countryCode: "DE",
    message: "Delete my account and stop all marketing emails.",
  });
  if (!jane.ok || !john.ok) throw new Error("default seed: DSR creation failed");
  await dastra.moveDsrToStep(john.value.id as number, 3);

  await dastra.createTask({
    label: "Verify the identity of Jane Doe",
    objectType: "DataSubject",
    objectId: String(jane.value.id),
    priority: "High",
    deadline: new Date(Date.now() + 7 * 86_400_000).toISOString(),
  });
  await dastra.createTask({
    label: "Erase John Roe from the CRM",
    objectType: "DataSubject",
    objectId: String(john.value.id),
    state: "Active",
    assignedToUserId: 1,
    deadline: new Date(Date.now() + 14 * 86_400_000).toISOString(),
  });

  dastra.createActor({
    actorType: "Morale",
    companyName: "Acme Analytics SAS",
    countryCode: "FR",
    email: "dpo@acme-analytics.example",
  });
  dastra.createActor({
    actorType: "Physical",
    givenName: "Jane",
    familyName: "Doe",
    email: "jane.doe@example.com",
    countryCode: "FR",
  });
}
