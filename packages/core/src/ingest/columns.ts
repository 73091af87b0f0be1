/**
 * Import column names as CRMs and prospecting tools export them, mapped to our fields.
 * Headers are compared after `headerKey`: lower-cased with everything but letters and
 * digits removed, so "Annual Revenue", "annual_revenue" and "# Employees" all match.
 */
export const IMPORT_FIELDS = [
  "domain",
  "name",
  "industry",
  "employees",
  "revenue",
  "country",
  "growthStage",
  "technologies",
  "techMaturity",
  "signals",
  "email",
  "firstName",
  "lastName",
  "title",
  "linkedinUrl",
  "timezone",
] as const;
export type ImportField = (typeof IMPORT_FIELDS)[number];

const ALIASES: Record<ImportField, string[]> = {
  domain: [
    "domain",
    "website",
    "company domain",
    "company website",
    "website url",
    "url",
    "company url",
    "domain name",
  ],
  name: ["name", "company", "company name", "account name", "organization", "organization name", "account"],
  industry: ["industry", "sector", "vertical", "company industry"],
  employees: [
    "employees",
    "# employees",
    "number of employees",
    "employee count",
    "company size",
    "headcount",
    "num employees",
    "estimated num employees",
  ],
  revenue: ["revenue", "annual revenue", "company revenue", "arr", "estimated annual revenue"],
  country: ["country", "company country", "hq country", "billing country", "location country"],
  growthStage: ["growth stage", "stage", "company stage", "funding stage"],
  technologies: ["technologies", "tech stack", "technology", "tools", "technographics"],
  techMaturity: ["tech maturity", "digital maturity"],
  signals: ["signals", "intent signals", "intent", "buying signals"],
  email: ["email", "email address", "work email", "contact email", "person email"],
  firstName: ["first name", "firstname", "contact first name", "person first name", "given name"],
  lastName: ["last name", "lastname", "contact last name", "person last name", "surname", "family name"],
  title: ["title", "job title", "contact title", "person title", "position"],
  linkedinUrl: ["linkedin url", "person linkedin url", "linkedin", "linkedin profile", "contact linkedin url"],
  timezone: ["time zone", "timezone", "tz", "contact time zone", "person time zone"],
};

export const headerKey = (h: string) => h.toLowerCase().replace(/[^a-z0-9]/g, "");

const BY_KEY = new Map<string, ImportField>();
for (const field of IMPORT_FIELDS) for (const alias of ALIASES[field]) BY_KEY.set(headerKey(alias), field);

export function resolveColumn(header: string): ImportField | undefined {
  return BY_KEY.get(headerKey(header));
}

export function aliasesOf(field: ImportField): readonly string[] {
  return ALIASES[field];
}
