import type { Language } from "./auto-reply-patterns.js";

/**
 * Written unsubscribe requests, per language. Read only in the new text of a reply, so our own
 * footer's "unsubscribe" link in the quoted part never counts.
 */
const REQUESTS: Record<Language, RegExp> = {
  en: /(\bunsubscribe\b|\bremove me\b|\bopt(-| )?me out\b|\bopt out\b|take me off|stop (e-?mailing|contacting|messaging|sending|writing)( to)? me|(do not|don't|please don't|never) (e-?mail|contact|message|write to) me|no (more|further) e-?mails|not interested,? (please )?(stop|remove))/i,
  fr: /(désabonne|désinscri|desinscri|retirez[- ]moi|supprimez[- ]moi|ne (plus )?me (contactez|écrivez|sollicitez) plus|ne plus (me )?(contacter|écrire|recevoir)|arrêtez de m'(écrire|envoyer|contacter)|cessez de m'(écrire|envoyer|contacter))/i,
  de: /(abmelden|tragen sie mich .{0,40}aus|abbestellen|austragen|entfernen sie mich|löschen sie mich|keine (weiteren )?(e-?mails|mails|nachrichten)( mehr)?|nicht mehr (kontaktieren|anschreiben|schreiben|kontaktiert)|hören sie auf,? mir zu schreiben)/i,
  es: /(dar(me)? de baja|(den|de)me de baja|darse de baja|cancelar (la |mi )?suscripción|elimín(en|e)me|bórr(en|e)me|quít(en|e)me de|no me (escriban|contacten|envíen|escriba|contacte|envíe)( más)?|dej(en|e) de (escribirme|enviarme|contactarme))/i,
  it: /(disiscriv|cancellami|cancellarmi|cancellatemi|rimuovetemi|rimuovimi|toglietemi|non (contattatemi|scrivetemi|mi scrivete|mi contattate) più|smettete(la)? di (scrivermi|inviarmi|contattarmi)|annullare l'iscrizione)/i,
  pt: /(descadastr|cancelar (a |minha )?inscrição|remova-me|remover-me|me remova|me tire da|tire-me da|parem de me (enviar|escrever|contactar|contatar)|não me (contactem|contatem|enviem|escrevam) mais|sair da (sua )?lista)/i,
  nl: /(afmelden|uitschrijven|schrijf me uit|verwijder (mij|me)|haal (mij|me) (van|uit)|stop met (mailen|e-?mailen)|geen (e-?mails|mails|berichten) meer|mail me niet meer)/i,
};

/** The matched request phrase, or null. */
export function unsubscribeRequest(newText: string): string | null {
  for (const re of Object.values(REQUESTS)) {
    const m = re.exec(newText);
    if (m) return m[0];
  }
  return null;
}
