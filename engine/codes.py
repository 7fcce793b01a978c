"""Every diagnostic code immat gives, with what it means and how to mend it, in French.

SARIF lists these as its rules' descriptions and help, `immat check --code CODE` prints one, and the docs site
has a page of them. A test holds the catalogue to the codes the engine gives: none missing, none left over.
"""

from __future__ import annotations

from .frozen import frozen


@frozen
class Code:
    subject: str  # what the code is about: one of SUBJECTS
    title: str  # one line: what was found
    help: str  # what it means and how to mend it


SUBJECTS = {
    "syntaxe": "Écriture des règles",
    "sens": "Sens des règles",
    "redaction": "Rédaction des règles",
    "bareme": "Barèmes",
    "lint": "Avertissements sur les règles",
    "paquet": "Paquet de règles et fichiers",
    "dossier": "Dossiers",
    "commande": "Commande et configuration",
}


def _code(subject: str, title: str, help: str) -> Code:
    return Code(subject, title, " ".join(help.split()))


CODES: dict[str, Code] = {
    # ------------------------------------------------------------------ writing the rules
    "syntaxe": _code("syntaxe", "La phrase ne suit pas la grammaire des règles", """
        Le fichier de règles contient un mot ou un signe à un endroit où la grammaire ne l'attend pas. Le
        message dit ce qui était attendu ; l'aide propose souvent le mot voulu. Comparez avec une règle voisine
        écrite de la même façon, ou lancez « immat fmt » sur un fichier qui se lit pour voir la forme attendue."""),
    "date": _code("syntaxe", "Date impossible", """
        Une date écrite dans les règles n'existe pas au calendrier (par exemple le 31/02/2024). Corrigez le jour
        ou le mois ; les dates s'écrivent JJ/MM/AAAA."""),
    "duree": _code("syntaxe", "Durée qui n'est pas un nombre entier d'unités", """
        Une durée compte des jours, des mois ou des ans entiers : « 6 mois », pas « 6,5 mois ». Écrivez la
        durée dans une unité plus petite si besoin (« 195 jours »)."""),
    "bareme-cle": _code("syntaxe", "Clé de barème qui n'est pas un entier", """
        Les clés numériques d'un barème (bornes « de … à … ») sont des nombres entiers, comme les grandeurs
        qu'elles classent (CO₂ en g/km, puissance en CV, masse en kg). Retirez la partie décimale."""),
    "fichier-trop-long": _code("paquet", "Fichier trop long pour être lu", """
        Un fichier de règles, un dossier ou un schéma dépasse la taille qu'immat accepte de lire : il n'est pas
        lu, pour qu'un fichier démesuré ne bloque pas la vérification. Scindez les règles en plusieurs fichiers
        (« importe »), ou vérifiez que le fichier est bien celui voulu."""),
    "trop-imbrique": _code("syntaxe", "Expression ou document trop imbriqué", """
        Les parenthèses ou conditions imbriquées dépassent la profondeur qu'immat sait vérifier sans risque.
        Nommez une partie de l'expression par une définition, puis employez ce nom."""),
    "chaine-trop-longue": _code("sens", "Chaîne de définitions trop longue", """
        Une définition s'appuie sur une autre, qui s'appuie sur une autre, et ainsi de suite au-delà de ce
        qu'immat évalue sans risque. Employez directement la définition qu'une autre ne fait que reprendre, ou
        simplifiez les expressions."""),
    # ------------------------------------------------------------------ meaning
    "type": _code("sens", "Valeurs de natures incompatibles", """
        Une opération, une comparaison ou une clause reçoit une valeur qui n'est pas de la nature attendue : une
        date comparée à un nombre, un montant ajouté à une durée, un champ qui n'est pas une liste parcouru
        comme une liste. Le message dit ce qui était attendu et ce qui a été trouvé ; pour l'écart entre deux
        dates, écrivez « durée entre A et B »."""),
    "nom-inconnu": _code("sens", "Nom qui ne désigne rien", """
        Le nom n'est ni une définition, ni un montant, ni un barème, ni un élément de liste parcouru à cet
        endroit. Vérifiez l'orthographe (l'aide propose le nom le plus proche) ou définissez-le."""),
    "champ-inconnu": _code("sens", "Champ absent du schéma du dossier", """
        Le chemin (par exemple « vehicule.date_premiere_immatriculation ») ne mène à aucun champ du schéma du
        dossier. Vérifiez l'orthographe (l'aide propose le champ le plus proche), ou ajoutez le champ au
        schéma du paquet."""),
    "valeur-inconnue": _code("sens", "Valeur que le champ ne peut pas prendre", """
        Le texte comparé à un champ, ou la clé d'un barème, n'est pas l'une des valeurs que le schéma du dossier
        permet pour ce champ : la condition ne serait jamais vraie. Le message liste les valeurs possibles."""),
    "nom-non-importe": _code("sens", "Nom défini dans un fichier non importé", """
        Le nom existe, mais dans un autre fichier que celui-ci n'importe pas. Ajoutez « importe "fichier" » en
        tête du fichier, pour que chaque fichier dise de quoi il dépend."""),
    "identifiant-duplique": _code("sens", "Deux règles du même nom", """
        Deux exigences, définitions, montants, barèmes ou avis portent le même nom : un rapport ne saurait
        laquelle citer. Renommez l'une des deux ; la note montre la première."""),
    "cycle": _code("sens", "Définitions circulaires", """
        Une définition dépend, par une chaîne d'autres, d'elle-même : elle n'aurait pas de valeur. Le message
        montre la boucle ; cassez-la en écrivant l'une des définitions sans l'autre."""),
    "conflit-exceptions": _code("sens", "Exceptions qui peuvent s'appliquer ensemble et conclure différemment", """
        Deux « sauf si » de la même règle peuvent être vrais pour le même dossier et concluent autrement : la
        règle ne dirait pas laquelle l'emporte (c'est la logique par défaut de Catala). Rendez les conditions
        exclusives (x = "a" et x = "b", ou des intervalles disjoints), ou donnez-leur la même conclusion."""),
    "piece-inconnue": _code("sens", "Type de pièce inconnu", """
        « exige une pièce » nomme un type de pièce que le schéma du dossier ne connaît pas : aucune pièce ne
        pourrait le satisfaire. Vérifiez l'orthographe (l'aide propose le type le plus proche) ou ajoutez le type
        au schéma."""),
    "titulaire-hors-boucle": _code("sens", "« du titulaire » hors d'une exigence par titulaire", """
        « du titulaire » désigne le titulaire en cours dans une exigence « pour chaque titulaire ». Ailleurs il
        ne désigne personne : écrivez l'exigence « pour chaque titulaire », ou retirez « du titulaire »."""),
    "cle-hors-ligne": _code("sens", "« clé » hors d'une ligne de barème", """
        « clé » vaut la clé consultée, et ne s'emploie que dans la valeur d'une ligne de barème à clés numériques
        (par exemple « de 141 à 218 : 210 € + (clé − 140) × 30 € »)."""),
    "date-de-reference": _code("sens", "Barème consulté sans date de référence", """
        Un barème sans « à la date … » prend la version en vigueur à la date de référence du paquet, que le
        paquet doit définir (« définition date_de_référence = date_demande »)."""),
    "import-introuvable": _code("paquet", "Fichier importé introuvable", """
        « importe » nomme un fichier qui n'est pas dans le paquet. Vérifiez le nom (sans oublier « .immat »)
        et que le fichier est dans le même dossier que les règles."""),
    "aucune-exigence": _code("sens", "Règles sans aucune exigence", """
        Le paquet ne contient ni exigence ni recevabilité : il ne vérifierait rien, et tout dossier paraîtrait
        complet. Vérifiez que « --rules » désigne le bon dossier."""),
    # ------------------------------------------------------------------ drafting for the reader
    "source-manquante": _code("redaction", "Règle sans source juridique", """
        Chaque exigence, montant et avis cite le texte qu'il applique, que le rapport montre à l'usager et que
        le juriste contrôle. Ajoutez « source "Code …, art. …" »."""),
    "titre-manquant": _code("redaction", "Règle sans titre", """
        Le titre est ce que le rapport affiche pour la règle. Ajoutez « titre "…" », une phrase courte en
        français."""),
    "message-manquant": _code("redaction", "Exigence qui ne dit pas quoi faire", """
        Quand une exigence n'est pas satisfaite, le rapport montre son message : ce que l'usager doit joindre
        ou faire. Ajoutez « message "…" »."""),
    "note-vide": _code("redaction", "Note vide", """
        Une clause « note » sans texte n'apprend rien au lecteur. Écrivez la note entre les guillemets, ou
        retirez la clause."""),
    "non-traite-vide": _code("redaction", "« non traité » vide", """
        « non traité » dit ce que la règle laisse de côté, que le rapport signale comme non couvert. Écrivez ce
        qui n'est pas traité, ou retirez la clause."""),
    # ------------------------------------------------------------------ tables
    "bareme-forme": _code("bareme", "Barème de forme mêlée", """
        Un barème a soit des lignes (clé : valeur) dans chacune de ses versions, soit une seule valeur par
        version, pas les deux."""),
    "bareme-type": _code("bareme", "Barème aux valeurs de natures différentes", """
        Les valeurs d'un barème sont toutes de même nature (toutes des montants, ou toutes des pourcentages…),
        pour que la règle qui le consulte ait un résultat d'une nature connue."""),
    "bareme-formule": _code("bareme", "Calcul qui n'a pas sa place dans un barème", """
        Une valeur de barème est faite de constantes et de calculs (+ − × /) sur « clé ». Un nom de définition
        ou de champ n'y a pas sa place : calculez-le dans la règle qui consulte le barème."""),
    "bareme-chevauchement": _code("bareme", "Lignes ou versions qui se chevauchent", """
        Deux lignes d'un barème couvrent la même clé, ou deux versions sont en vigueur le même jour : la
        consultation ne saurait laquelle prendre. La note montre l'autre ligne ; corrigez les bornes."""),
    "bareme-lacune": _code("bareme", "Trou dans un barème", """
        Aucune ligne ne couvre certaines clés entre deux lignes, ou aucune version n'est en vigueur entre deux
        dates : un dossier qui y tombe n'aurait pas de valeur. Ajoutez la ligne ou la version manquante, au
        besoin « hors barème "raison" »."""),
    "bareme-periode": _code("bareme", "Période de vigueur inversée", """
        La fin d'une version de barème précède son début. Corrigez les dates « du … au … »."""),
    "bareme-intervalle": _code("bareme", "Intervalle vide", """
        La borne haute d'une ligne « de … à … » précède sa borne basse : la ligne ne couvre rien. Corrigez les
        bornes."""),
    "bareme-cles": _code("bareme", "Clés textuelles et numériques mêlées", """
        Un barème se consulte soit par une valeur (texte), soit par un nombre (intervalles « de … à … »), pas
        les deux dans la même version."""),
    "bareme-trop-long": _code("bareme", "Barème trop long", """
        Le barème a plus de lignes ou de versions qu'immat n'en contrôle sans risque. Scindez-le en plusieurs
        barèmes."""),
    "bareme-consultation": _code("bareme", "Barème consulté de la mauvaise façon", """
        Un barème à lignes se consulte par clé (« barème X pour … ») ; un barème à une valeur par version se
        consulte sans clé. Ajoutez ou retirez « pour … » selon le barème."""),
    "libelle-vide": _code("bareme", "Libellé de clé vide", """
        Le libellé entre « » dit en français ce que la clé désigne, pour le lecteur. Écrivez-le, ou
        retirez-le."""),
    # ------------------------------------------------------------------ warnings
    "bareme-incomplet": _code("lint", "Barème sans ligne pour certaines valeurs", """
        Le schéma permet des valeurs de la clé pour lesquelles le barème n'a pas de ligne : un dossier qui en a
        une recevrait une erreur au lieu d'un montant. Ajoutez une ligne par valeur, au besoin « hors barème
        "raison" »."""),
    "definition-inutilisee": _code("lint", "Définition que rien n'emploie", """
        Aucune règle n'emploie cette définition : elle ne change aucun rapport. Retirez-la, ou employez-la là où
        elle était prévue. Pour garder une définition documentaire, ajoutez « # immat: ignore[definition-inutilisee] »
        sur sa ligne."""),
    "jamais-applicable": _code("lint", "Exigence qui ne peut jamais s'appliquer", """
        La condition « si … » de l'exigence se contredit (par exemple x = "a" et x = "b") : l'exigence ne
        s'appliquera à aucun dossier. Corrigez la condition."""),
    "exception-impossible": _code("lint", "Exception qui ne peut jamais jouer", """
        La condition de ce « sauf si » contredit celle de l'exigence : l'exception ne jouera pour aucun dossier
        auquel l'exigence s'applique. Corrigez l'une des deux conditions."""),
    "non-exercee": _code("lint", "Règle qu'aucune fixture n'atteint", """
        Aucune fixture (dossier d'essai avec son résultat attendu) n'atteint cette exigence, exception,
        alternative, ce montant ou cet avis : un changement de la règle passerait sans être vu. Ajoutez une
        fixture qui l'exerce (donné par « check --fixtures »)."""),
    # ------------------------------------------------------------------ packs and files
    "regles-introuvables": _code("paquet", "Règles introuvables", """
        Le chemin donné par « --rules » (ou la configuration) n'existe pas. Donnez un dossier de règles ou un
        fichier .immat."""),
    "paquet-vide": _code("paquet", "Dossier sans fichier de règles", """
        Le dossier désigné ne contient aucun fichier .immat : il n'y aurait rien à vérifier."""),
    "import-hors-du-paquet": _code("paquet", "Import hors du paquet", """
        Un fichier de règles n'importe que des fichiers de son paquet : un chemin qui en sort, ou un lien
        symbolique qui mène ailleurs, n'est pas lu, pour que les règles ne lisent jamais hors de leur paquet."""),
    "fichier-hors-du-paquet": _code("paquet", "Lien symbolique qui mène hors du paquet", """
        Un fichier du paquet est un lien vers un fichier situé ailleurs : il n'est pas lu. Copiez le fichier dans
        le paquet."""),
    "fichier-special": _code("paquet", "Ce n'est pas un fichier ordinaire", """
        Le chemin désigne un dossier, un tube nommé, un périphérique ou une socket : il n'est pas lu, pour que la
        lecture ne puisse pas attendre sans fin."""),
    "fichier-binaire": _code("paquet", "Fichier binaire", """
        Le fichier contient un octet nul : ce n'est pas un texte de règles. Vérifiez le chemin."""),
    "encodage": _code("paquet", "Fichier qui n'est pas en UTF-8", """
        Les règles et les dossiers s'écrivent en UTF-8. Le message donne l'octet fautif et sa position ;
        enregistrez le fichier en UTF-8."""),
    "lien-en-boucle": _code("paquet", "Liens symboliques en boucle", """
        Les liens symboliques du chemin mènent l'un à l'autre sans fin : le fichier ne peut pas être lu."""),
    "lecture": _code("paquet", "Lecture impossible", """
        Le fichier n'a pas pu être lu : introuvable, lecture refusée (droits d'accès) ou erreur du système,
        que le message précise."""),
    "formatage": _code("paquet", "Mise en forme qui changerait le sens", """
        « immat fmt » a refusé de réécrire le fichier : sa mise en forme aurait changé ce que disent les règles
        ou perdu un commentaire. Le fichier est laissé tel quel ; c'est une anomalie d'immat, à signaler avec le
        fichier en cause."""),
    # ------------------------------------------------------------------ dossiers
    "json-invalide": _code("dossier", "JSON illisible", """
        Le dossier n'est pas un JSON valide : une virgule, un guillemet ou une accolade manque, une valeur
        n'est pas du JSON (NaN), un texte tient une moitié isolée de paire UTF-16, un entier est démesuré ou le
        texte est trop imbriqué. Le message donne la ligne et la colonne, ou le pointeur JSON."""),
    "cle-dupliquee": _code("dossier", "Clé JSON répétée", """
        Un objet du dossier a deux fois la même clé : on ne saurait laquelle vaut. Le pointeur JSON montre
        l'objet ; gardez une seule des deux."""),
    "schema": _code("dossier", "Dossier non conforme à son schéma", """
        Un champ du dossier manque, est de mauvaise nature ou prend une valeur que le schéma ne permet pas. Le
        pointeur JSON désigne le champ, le message dit ce qui est attendu ; l'aide propose la valeur la plus
        proche. « immat schema dossier » affiche le schéma."""),
    "immatriculation": _code("dossier", "Numéro d'immatriculation mal formé", """
        Le numéro d'immatriculation ne suit ni le format SIV (AB-123-CD) ni l'ancien format FNI (123 AB 01),
        tels qu'ils s'écrivent sur le certificat. Le message dit ce qui ne va pas et la forme attendue."""),
    "trop-volumineux": _code("dossier", "Dossier trop volumineux", """
        Le dossier, ou la ligne d'un lot, dépasse la taille qu'immat accepte : il n'est pas lu, pour qu'un
        dossier démesuré ne bloque pas un lot. Le message donne la limite ; celle d'immat serve se règle par
        --max-bytes et --max-batch-bytes (réponse 413)."""),
    "schema-invalide": _code("dossier", "Schéma de dossier illisible", """
        Le schéma de dossier du paquet (dossier.schema.json) n'est pas un JSON Schema qu'immat sait lire. Le
        pointeur JSON désigne la partie en cause."""),
    "aucun-dossier": _code("dossier", "Aucun dossier trouvé", """
        Le dossier ou le motif donné ne désigne aucun fichier de dossier (.json, .jsonl, .jsonl.gz) : rien
        n'aurait été vérifié, ce qui n'est pas un succès."""),
    "lecture-interrompue": _code("dossier", "Lecture interrompue", """
        Le fichier s'arrête au milieu (une archive gzip tronquée, par exemple), ou un lot envoyé à immat serve
        dépasse la taille permise (--max-batch-bytes) ou voit sa connexion coupée : les dossiers lus avant sont
        vérifiés, la suite est signalée à cette ligne."""),
    # ------------------------------------------------------------------ the HTTP API (immat serve)
    "type-de-contenu": _code("dossier", "Type de contenu refusé", """
        L'API d'immat serve reçoit un dossier en JSON (Content-Type: application/json) sur /v1/validate, un lot
        en JSON Lines (Content-Type: application/x-ndjson) sur /v1/validate/batch. Envoyez le corps avec
        l'en-tête qui dit ce qu'il est (réponse 415)."""),
    "parametre": _code("dossier", "Paramètre de requête invalide", """
        Les paramètres « explain » et « tout » d'une requête à l'API valent true ou false (ou 1 et 0). Corrigez
        l'adresse de la requête (réponse 400)."""),
    "delai-depasse": _code("dossier", "Délai de réponse dépassé", """
        La requête n'a pas été traitée dans le délai que le service s'accorde (--timeout pour un dossier,
        --batch-timeout pour un lot) : un corps envoyé trop lentement, ou un service surchargé. Réessayez plus
        tard ; pour un lot, renvoyez les dossiers à partir de celui que l'enregistrement désigne (réponse 503)."""),
    "introuvable": _code("dossier", "Ressource introuvable", """
        L'adresse demandée à immat serve ne désigne rien : une règle qui n'existe pas dans le paquet servi (le
        message propose l'identifiant le plus proche), une page absente du site des règles, ou une adresse
        inconnue. /openapi.json liste les adresses de l'API (réponse 404)."""),
    "requete": _code("dossier", "Requête refusée", """
        La requête n'est pas de celles que cette adresse reçoit, par exemple une méthode HTTP qu'elle ne prend
        pas (GET à la place de POST). /openapi.json dit, pour chaque adresse, les méthodes permises."""),
    # ------------------------------------------------------------------ commands and configuration
    "configuration": _code("commande", "Configuration [tool.immat] invalide", """
        La table [tool.immat] du pyproject.toml contient une clé inconnue, un chemin qui n'existe pas, ou le
        fichier n'est pas du TOML. Les clés connues sont « rules » et « fixtures »."""),
    "sortie-impossible": _code("commande", "Écriture impossible", """
        Le fichier de sortie (-o, --resume, --summary) n'a pas pu être écrit : dossier absent, droits
        d'accès ou disque plein, que le message précise. Rien d'autre n'a été modifié."""),
    "reprise-impossible": _code("commande", "Reprise impossible", """
        « --resume » reprend le fichier d'une vérification interrompue des mêmes dossiers. Ce fichier-là ne
        l'est pas (autres dossiers, autre format) : reprenez avec le bon fichier, ou écrivez ailleurs."""),
    "dask-absent": _code("commande", "Extra « dask » non installé", """
        Le calcul sur une grappe Dask demande l'extra « dask » : pip install 'immat[dask]'."""),
    "dask-adresse": _code("commande", "Adresse de grappe Dask mal écrite", """
        « --dask » prend local:N (N processus sur cette machine) ou l'adresse d'un ordonnanceur Dask
        (tcp://hôte:8786)."""),
    "dask-connexion": _code("commande", "Grappe Dask injoignable", """
        L'ordonnanceur Dask ne répond pas à l'adresse donnée. Vérifiez qu'il tourne et que l'adresse est
        juste."""),
}


def describe(code: str) -> str:
    """The text `immat check --code CODE` prints."""
    c = CODES[code]
    return f"{code} — {c.title}\n({SUBJECTS[c.subject]})\n\n{c.help}\n"
