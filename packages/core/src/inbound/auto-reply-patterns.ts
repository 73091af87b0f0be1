/**
 * Auto-reply wording in the seven languages we classify (en, fr, de, es, it, pt, nl). Three
 * tables, because they weigh differently: a subject pattern or an explicit "automatic reply"
 * marker is enough on its own; an out-of-office phrase in the body only counts next to another
 * sign (a person may well write "I'm out of the office until Monday, but yes, let's talk").
 */
export const LANGUAGES = ["en", "fr", "de", "es", "it", "pt", "nl"] as const;
export type Language = (typeof LANGUAGES)[number];

type Table = Record<Language, RegExp>;

/** Subjects auto-responders set ("Automatic reply: …", "Abwesenheitsnotiz: …", "Out of Office"). */
export const AUTO_SUBJECT: Table = {
  en: /\b(automatic reply|auto[- ]?reply|auto[- ]?response|out of (the )?office|away from (the )?office|vacation (reply|response)|on (annual )?leave)\b/i,
  fr: /(réponse automatique|r[ée]ponse d'absence|message d'absence|\babsente?\b|\babsence\b|hors du bureau)/i,
  de: /(automatische antwort|abwesenheitsnotiz|abwesenheit|\babwesend\b|außer haus|nicht im büro)/i,
  es: /(respuesta automática|respuesta de ausencia|fuera de (la )?oficina|\bausente\b)/i,
  it: /(risposta automatica|fuori ufficio|fuori sede|\bassente\b)/i,
  pt: /(resposta automática|\bausência\b|fora do escritório|\bausente\b)/i,
  nl: /(automatisch antwoord|\bafwezig(heid)?\b|afwezigheidsbericht|buiten kantoor|niet aanwezig)/i,
};

/** Body sentences that say outright the message was sent automatically. */
export const AUTO_MARKER: Table = {
  en: /\b(this is an? )?(automatic|automated|auto[- ]?generated)[- ](reply|response|message|notification)\b/i,
  fr: /(réponse automatique|message automatique|message généré automatiquement)/i,
  de: /(automatische antwort|automatische nachricht|automatisch generierte|automatisch erstellte)/i,
  es: /(respuesta automática|mensaje automático|mensaje generado automáticamente)/i,
  it: /(risposta automatica|messaggio automatico|messaggio generato automaticamente)/i,
  pt: /(resposta automática|mensagem automática|mensagem gerada automaticamente)/i,
  nl: /(automatisch antwoord|automatisch bericht|automatisch gegenereerd)/i,
};

/** Out-of-office wording, in the subject or the body: decides the `out_of_office` sub-kind. */
export const OUT_OF_OFFICE: Table = {
  en: /\b(out of (the )?office|away from (the )?office|on (annual |parental |maternity |paternity )?leave|on (vacation|holiday)|(i am|i'm|i will be|i'll be) (currently )?(away|travell?ing|off)|limited access to (my )?e-?mail|back (in the office )?on)\b/i,
  fr: /(\babsente?\b|\babsence\b|en congés?\b|en vacances|hors du bureau|de retour (le|au bureau))/i,
  de: /(\babwesend\b|abwesenheit|nicht im büro|außer haus|im urlaub|wieder (erreichbar|im büro|da))/i,
  es: /(fuera de (la )?oficina|\bausente\b|de vacaciones|estaré fuera|de regreso|volveré)/i,
  it: /(fuori ufficio|fuori sede|\bassente\b|in ferie|in vacanza|rientrerò|sarò di ritorno)/i,
  pt: /(\bausente\b|\bausência\b|fora do escritório|de férias|estarei fora|retorno (no dia|em|a))/i,
  nl: /(\bafwezig\b|niet op kantoor|buiten kantoor|met vakantie|op vakantie|weer aanwezig|terug op)/i,
};

/** Languages whose pattern of `table` matches `text`. */
export function languagesMatching(table: Table, text: string): Language[] {
  return LANGUAGES.filter((lang) => table[lang].test(text));
}
