# The contact transform in jq, for the timing comparison in benches/run.
# As in the README's measurements: money divided in floating point, the
# Dubai offset fixed at +04:00 (jq has no zone database), ASCII lower-casing.
def nn(k; v): if v == null then {} else {(k): v} end;
def dubai:
  if . == null then null else
    tonumber as $ms | (($ms / 1000) | floor) as $s | ($ms - $s * 1000) as $f
    | ((($s + 14400) | todate)[0:19]) + "." + (("00" + ($f | tostring))[-3:]) + "+04:00"
  end;
def status:
  {"NEW": "Open - Not Contacted", "OPEN": "Open - Not Contacted",
   "IN_PROGRESS": "Working - Contacted", "ATTEMPTED_TO_CONTACT": "Working - Contacted",
   "CONNECTED": "Working - Contacted", "OPEN_DEAL": "Closed - Converted",
   "UNQUALIFIED": "Closed - Not Converted", "BAD_TIMING": "Closed - Not Converted"}[. // ""]
  // "Other";
.properties as $p
| ($p.currency // "USD") as $cur
| {External_Id__c: .id}
+ nn("FirstName"; $p.firstname)
+ {LastName: ($p.lastname // "[not provided]")}
+ nn("Email"; ($p.email | if . == null then null else ascii_downcase | gsub("^\\s+|\\s+$"; "") end))
+ nn("Phone"; $p.phone)
+ nn("MobilePhone"; $p.mobilephone)
+ nn("Title"; $p.jobtitle)
+ nn("Account_Name__c"; $p.company)
+ nn("MailingStreet"; $p.address)
+ nn("MailingCity"; $p.city)
+ nn("MailingState"; $p.state)
+ nn("MailingPostalCode"; $p.zip)
+ nn("MailingCountry"; $p.country)
+ {Status__c: ($p.hs_lead_status | status)}
+ nn("CreatedDate"; ($p.createdate | dubai))
+ nn("LastModifiedDate"; ($p.lastmodifieddate | dubai))
+ nn("Last_Contacted__c"; ($p.notes_last_contacted | dubai))
+ {HasOptedOutOfEmail: ($p.hs_email_optout // false)}
+ nn("Lifetime_Value__c"; ($p.total_revenue
    | if . == null then null
      else . / pow(10; ({"JPY": 0, "KWD": 3, "BHD": 3, "OMR": 3, "JOD": 3}[$cur] // 2)) end))
+ {CurrencyIsoCode: $cur, Deal_Ids__c: [.associations.deals.results[]?.id]}
