"""The vocabulary of the operative-note writer (data/operative_notes.py): operations as surgeons dictate them.

Invented for clintune from general surgical knowledge; no row is drawn from any real record. `{side}` in a field is
filled with "left" or "right" for a sided operation. Every operation keeps the words a surgeon writes and the plain
words a patient would understand, so a question can ask for one and the answer give the other.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Operation:
    name: str  # as written under PROCEDURE
    abbr: str  # "" when surgeons do not shorten it
    diagnosis: str
    diagnosis_abbr: str
    plain: str  # what the operation does, for a patient
    plain_diagnosis: str
    symptom: str  # what brought the patient, for the indication and the temporal questions
    service: str
    sided: bool
    position: str
    site: str  # what was prepped and draped
    steps: tuple[str, ...]  # the middle of the description, in order
    referent: str  # what "It" means in the coreference sentence, the first step after `steps`
    pronoun_step: str
    findings: tuple[str, ...]  # one is chosen
    specimen: str  # "" for none
    closure: tuple[str, ...]  # sutures, deep to skin
    blood_loss: tuple[int, int]  # mL
    anesthesia: tuple[str, ...]  # keys of ANESTHESIA
    prior_test: tuple[str, str]  # (a test before surgery, what it showed)
    child: bool = False


ANESTHESIA = {
    "general": ("General endotracheal anesthesia.", "general anesthesia"),
    "LMA": ("General anesthesia via LMA.", "general anesthesia with a laryngeal mask airway"),
    "MAC": ("MAC with local anesthesia.", "monitored anesthesia care with local anesthesia"),
    "spinal": ("Spinal anesthesia.", "spinal anesthesia"),
    "local": ("Local anesthesia.", "local anesthesia"),
}

OPERATIONS = (
    Operation("{side} inguinal hernia repair with mesh", "", "{side} inguinal hernia", "", "an operation to fix the "
              "bulge in the {side} groin", "a bulge in the {side} groin", "a painful {side} groin bulge",
              "general surgery", True, "supine", "{side} groin",
              ("An oblique incision was made in the {side} groin and carried down to the external oblique fascia.",
               "The external oblique fascia was opened in the direction of its fibers."),
              "the hernia sac", "It was dissected free from the cord structures and high ligated with 2-0 silk.",
              ("an indirect hernia with a moderate-sized sac", "a direct hernia through a weak floor"),
              "", ("2-0 Vicryl", "4-0 Monocryl"), (5, 30), ("general", "LMA", "MAC"),
              ("Ultrasound", "a fat-containing hernia")),
    Operation("laparoscopic cholecystectomy", "", "symptomatic cholelithiasis", "",
              "removal of the gallbladder through small cuts", "gallstones causing pain",
              "right upper quadrant pain after meals", "general surgery", False, "supine", "abdomen",
              ("Pneumoperitoneum was established through an umbilical Hasson port and three more ports were placed.",
               "The cystic duct and cystic artery were dissected out and clipped."),
              "the gallbladder", "It was then removed from the liver bed with electrocautery and placed in a bag.",
              ("a distended gallbladder with multiple stones", "a chronically inflamed gallbladder"),
              "gallbladder", ("0 Vicryl", "4-0 Monocryl"), (10, 50), ("general",),
              ("Right upper quadrant ultrasound", "multiple gallstones without ductal dilation")),
    Operation("transurethral resection of the prostate", "TURP", "benign prostatic hyperplasia", "BPH",
              "removal of prostate tissue through the urethra", "an enlarged prostate", "weak urinary stream and "
              "nocturia", "urology", False, "dorsal lithotomy", "genitalia",
              ("A 26 French resectoscope was passed into the bladder under direct vision.",
               "Both ureteral orifices were identified and the verumontanum was marked."),
              "the median lobe", "It was resected down to the capsule, followed by both lateral lobes.",
              ("trilobar enlargement of the prostate", "an obstructing median lobe with bladder trabeculation"),
              "prostate chips", (), (100, 300), ("spinal", "general"),
              ("Urodynamic study", "bladder outlet obstruction")),
    Operation("cystoscopy and transurethral resection of bladder tumor", "TURBT", "bladder tumor", "",
              "removal of a growth in the bladder through the urethra", "a growth in the bladder",
              "painless gross hematuria", "urology", False, "dorsal lithotomy", "genitalia",
              ("A 21 French cystoscope was passed and the bladder was inspected in full.",
               "A 24 French resectoscope was then inserted."),
              "the tumor", "It was resected down to the detrusor muscle and the base was fulgurated.",
              ("a 2 cm papillary tumor on the left lateral wall", "a 3 cm papillary tumor at the dome"),
              "bladder tumor", (), (10, 50), ("general", "spinal"),
              ("CT urogram", "a filling defect in the bladder")),
    Operation("bilateral vasectomy", "", "desire for permanent sterilization", "", "cutting and sealing the tubes that "
              "carry sperm", "a wish for permanent birth control", "a desire for no more children", "urology", False,
              "supine", "scrotum",
              ("The right vas deferens was grasped through the skin and a small incision was made over it.",),
              "the vas", "It was divided, the ends were cauterized and tied with 3-0 chromic.",
              ("normal vasa bilaterally",), "vas segments", ("3-0 chromic",), (1, 5), ("local",),
              ("Semen analysis", "a normal sperm count")),
    Operation("circumcision", "", "phimosis", "", "removal of the foreskin", "a tight foreskin",
              "recurrent foreskin infections", "urology", False, "supine", "penis",
              ("A dorsal penile block was done with 0.25% Marcaine.",
               "The foreskin was retracted and the adhesions were lysed."),
              "the foreskin", "It was then excised along the marked lines with scissors.",
              ("a tight phimotic ring", "dense preputial adhesions"), "foreskin", ("5-0 chromic",), (1, 10),
              ("general", "LMA"), ("Urinalysis", "no infection"), child=True),
    Operation("{side} ureteroscopy with laser lithotripsy and stent placement", "", "{side} ureteral stone", "",
              "breaking up a kidney stone with a laser through a thin scope", "a stone in the tube from the {side} "
              "kidney", "{side} flank pain", "urology", True, "dorsal lithotomy", "genitalia",
              ("A guidewire was passed up the {side} ureter into the kidney under fluoroscopy.",
               "A semirigid ureteroscope was advanced to the stone."),
              "the stone", "It was fragmented with the holmium laser and the pieces were removed with a basket.",
              ("a 7 mm stone in the distal ureter", "a 9 mm stone in the proximal ureter"), "stone fragments", (),
              (1, 10), ("general", "LMA"), ("CT abdomen and pelvis", "mild hydronephrosis above the stone")),
    Operation("{side} hydrocelectomy", "", "{side} hydrocele", "",
              "removal of the fluid sac around the {side} testicle", "fluid around the {side} testicle",
              "{side} scrotal swelling", "urology", True, "supine", "scrotum",
              ("A transverse incision was made in the {side} hemiscrotum.",
               "The hydrocele was delivered and the fluid was drained."),
              "the hydrocele sac", "It was excised and the edges were oversewn with 3-0 chromic.",
              ("a large hydrocele with clear yellow fluid", "a thick-walled hydrocele"), "hydrocele sac",
              ("3-0 chromic", "4-0 chromic"), (5, 25), ("general", "LMA"),
              ("Scrotal ultrasound", "a large hydrocele with a normal testicle")),
    Operation("laparoscopic appendectomy", "", "acute appendicitis", "", "removal of the appendix through small cuts",
              "an inflamed appendix", "right lower quadrant pain", "general surgery", False, "supine", "abdomen",
              ("Pneumoperitoneum was established and two working ports were placed.",
               "The mesoappendix was divided with the harmonic scalpel."),
              "the appendix", "It was divided at its base with an endoscopic stapler and removed in a bag.",
              ("an inflamed, nonperforated appendix", "a gangrenous appendix without perforation"), "appendix",
              ("0 Vicryl", "4-0 Monocryl"), (5, 25), ("general",), ("CT abdomen", "a dilated appendix of 11 mm")),
    Operation("{side} carpal tunnel release", "CTR", "{side} carpal tunnel syndrome", "CTS", "an operation to free the "
              "squeezed nerve in the {side} wrist", "a pinched nerve in the {side} wrist", "numbness of the {side} "
              "hand at night", "orthopedics", True, "supine", "{side} upper extremity",
              ("A longitudinal incision was made in the palm in line with the ring finger.",
               "The palmar fascia was divided and the transverse carpal ligament exposed."),
              "the transverse carpal ligament", "It was divided completely under direct vision.",
              ("a flattened median nerve", "a hyperemic median nerve"), "", ("4-0 nylon",), (1, 10),
              ("MAC", "local"), ("Nerve conduction study", "a prolonged median motor latency")),
    Operation("tonsillectomy and adenoidectomy", "T&A", "chronic tonsillitis with adenoid hypertrophy", "",
              "removal of the tonsils and adenoids", "repeated throat infections with large adenoids",
              "recurrent sore throats and snoring", "otolaryngology", False, "supine", "face",
              ("A mouth gag was placed and suspended.", "Attention was turned to the right tonsil."),
              "the right tonsil", "It was grasped and dissected from its fossa with electrocautery, then the left.",
              ("3+ tonsils and moderately enlarged adenoids", "cryptic tonsils and large adenoids"),
              "tonsils and adenoids", (), (10, 40), ("general",), ("Sleep study", "mild obstructive sleep apnea"),
              child=True),
    Operation("excision of {side} forearm lipoma", "", "{side} forearm lipoma", "", "removal of a fatty lump from the "
              "{side} forearm", "a fatty lump on the {side} forearm", "an enlarging {side} forearm mass",
              "general surgery", True, "supine", "{side} upper extremity",
              ("An elliptical incision was made over the mass.",),
              "the mass", "It was dissected free from the surrounding tissue and removed intact.",
              ("a 4 cm encapsulated fatty mass", "a 6 cm lobulated fatty mass"), "lipoma",
              ("3-0 Vicryl", "4-0 nylon"), (1, 10), ("MAC", "local"),
              ("Ultrasound", "a well-circumscribed fatty mass")),
    Operation("{side} knee arthroscopy with partial medial meniscectomy", "", "{side} medial meniscus tear", "",
              "trimming a torn cartilage in the {side} knee through a camera", "a torn cartilage in the {side} knee",
              "{side} knee pain and locking", "orthopedics", True, "supine", "{side} lower extremity",
              ("Standard anterolateral and anteromedial portals were made.",
               "A diagnostic arthroscopy showed intact cruciate ligaments."),
              "the torn meniscus", "It was trimmed back to a stable rim with a shaver.",
              ("a complex tear of the posterior horn of the medial meniscus", "a radial tear of the medial meniscus"),
              "", ("3-0 nylon",), (1, 10), ("general", "LMA"), ("MRI knee", "a medial meniscus tear")),
    Operation("laparoscopic Roux-en-Y gastric bypass", "RYGB", "morbid obesity", "", "a weight-loss operation that "
              "makes the stomach smaller", "severe obesity", "weight gain despite diets", "bariatric surgery", False,
              "supine", "abdomen",
              ("Pneumoperitoneum was established and five ports were placed.",
               "A small gastric pouch was created with the stapler."),
              "the Roux limb", "It was brought up antecolic and joined to the pouch.",
              ("a large fatty liver", "no hiatal hernia"), "", ("0 Vicryl", "4-0 Monocryl"), (20, 100),
              ("general",), ("Upper endoscopy", "mild gastritis")),
)

ANTIBIOTICS = ("Ancef 1 g IV", "Ancef 2 g IV", "gentamicin 80 mg IV", "clindamycin 600 mg IV", "Rocephin 1 g IV")
LOCALS = ("0.25% Marcaine", "0.5% Marcaine with epinephrine", "1% lidocaine", "1% lidocaine with epinephrine")
COMORBIDITIES = (("hypertension", "HTN", "high blood pressure"), ("diabetes mellitus", "DM", "diabetes"),
                 ("coronary artery disease", "CAD", "heart artery disease"), ("COPD", "COPD", "chronic lung disease"),
                 ("hyperlipidemia", "", "high cholesterol"), ("GERD", "GERD", "acid reflux"),
                 ("obstructive sleep apnea", "OSA", "sleep apnea"), ("hypothyroidism", "", "an underactive thyroid"))
DURATION_UNITS = (("week", 2, 10), ("month", 2, 11), ("year", 1, 6))
DISPOSITIONS = (("The patient tolerated the procedure well and was taken to the recovery room in stable condition.",
                 "The patient did well during the operation and was moved to the recovery room in a stable state."),
                ("The patient tolerated the procedure well and was transferred to the PACU in good condition.",
                 "The patient did well during the operation and was moved to the recovery unit in good shape."),
                ("The patient was awakened and taken to the recovery room in satisfactory condition.",
                 "The patient was brought out of anesthesia and moved to the recovery room in a satisfactory state."))
ABBREVIATIONS = {
    "EBL": "estimated blood loss", "PACU": "post-anesthesia care unit", "LMA": "laryngeal mask airway",
    "MAC": "monitored anesthesia care", "IV": "intravenous", "TURP": "transurethral resection of the prostate",
    "TURBT": "transurethral resection of bladder tumor", "BPH": "benign prostatic hyperplasia",
    "CTR": "carpal tunnel release", "CTS": "carpal tunnel syndrome", "T&A": "tonsillectomy and adenoidectomy",
    "RYGB": "Roux-en-Y gastric bypass", "HTN": "hypertension", "DM": "diabetes mellitus",
    "CAD": "coronary artery disease", "COPD": "chronic obstructive pulmonary disease",
    "GERD": "gastroesophageal reflux disease", "OSA": "obstructive sleep apnea", "y/o": "years old",
    "h/o": "history of", "PMH": "past medical history", "OR": "operating room",
}
# Things no operative note here holds: the basis of the unanswerable questions.
ABSENT = {
    "Named Entity Recognition": ("List the patient's home medications.", "the patient's home medications"),
    "Abbreviation Expansion": ("What does NPO stand for in this note?", "the abbreviation NPO"),
    "Relation Extraction": ("Which antibiotic was the patient discharged on?", "a discharge antibiotic"),
    "Temporal Information Extraction": ("How long did the operation last?", "how long the operation lasted"),
    "Coreference Resolution": ("In the sentence about the drain, what does 'it' refer to?", "a drain"),
    "Paraphrasing": ("Paraphrase the note's description of the patient's allergies for the patient.",
                     "the patient's allergies"),
    "Summarization": ("Summarize the pathology results.", "the pathology results"),
    "Question Answering": ("What was the patient's preoperative hemoglobin?", "the preoperative hemoglobin"),
}
